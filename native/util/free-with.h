// A std::unique_ptr deleter that frees with a C library's own function: std::unique_ptr<T, FreeWith<t_free>>.
#pragma once

namespace lg {

template <auto Free>
struct FreeWith {
    template <typename T>
    void operator()(T* p) const {
        Free(p);
    }
};

}  // namespace lg
