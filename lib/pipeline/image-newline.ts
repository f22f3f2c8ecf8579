import { readGgufFile, readTensorData } from '../../gguf/reader.js';
import { GgmlType } from '../../gguf/types.js';
import { bf16ToF32, decodeF16, decodeF32 } from '../../gguf/encode.js';
import { IMAGE_NEWLINE_TENSOR } from '../runtime/VisionModel.js';

/** The `image_newline` embedding from the mmproj (the row separator of OneVision's tile grid), as float32. */
export async function readImageNewline(mmprojPath: string, width: number): Promise<Float32Array> {
    const header = await readGgufFile(mmprojPath, { maxArrayValues: 64 });
    const tensor = header.tensors.find((t) => t.name === IMAGE_NEWLINE_TENSOR);
    if (!tensor) throw new Error(`mmproj '${mmprojPath}' has no ${IMAGE_NEWLINE_TENSOR} tensor`);
    const n = tensor.dims.reduce((a, b) => a * b, 1);
    if (n !== width)
        throw new Error(`${IMAGE_NEWLINE_TENSOR} has ${n} values; the text model's input width is ${width}`);
    const bytes = await readTensorData(mmprojPath, tensor);
    if (tensor.type === GgmlType.F32) return decodeF32(bytes);
    if (tensor.type === GgmlType.F16) return decodeF16(bytes);
    if (tensor.type === GgmlType.BF16) {
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return Float32Array.from({ length: n }, (_, i) => bf16ToF32(dv.getUint16(i * 2, true)));
    }
    throw new Error(`${IMAGE_NEWLINE_TENSOR} has type ${tensor.typeName}; F32, F16 or BF16 expected`);
}
