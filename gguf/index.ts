export * from './types.js';
export {
    GgufFormatError,
    readGguf,
    readGgufFile,
    readTensorData,
    metaValue,
    type ReadGgufOptions,
} from './reader.js';
export {
    GgufWriter,
    encodeTensor,
    type GgufWriterOptions,
    type TensorData,
    type TensorDataSource,
} from './writer.js';
export {
    f32ToF16,
    f16ToF32,
    f32ToBf16,
    bf16ToF32,
    encodeF32,
    encodeF16,
    encodeBF16,
    quantizeQ8_0,
    dequantizeQ8_0,
    decodeF16,
    decodeF32,
    QK8_0,
} from './encode.js';
export {
    makeTestModel,
    cachedTestModel,
    testModelCacheDir,
    tinyImageTokensPerTile,
    TINY_FAMILIES,
    TINY_MODEL_GENERATOR_VERSION,
    type TinyFamily,
    type TinyWeightType,
    type TinyFamilySpec,
    type TinyTextDims,
    type TinyVisionDims,
    type MakeTestModelOptions,
    type TestModelPaths,
} from './synthetic/tiny-models.js';
export {
    makeSpmVocab,
    makeBpeVocab,
    gpt2ByteOrder,
    VICUNA_CHAT_TEMPLATE,
    CHATML_CHAT_TEMPLATE,
    TOKEN_TYPE,
    type TinyVocab,
} from './synthetic/tiny-vocab.js';
export {
    inspectGguf,
    inspectHeader,
    formatInspect,
    type GgufInspection,
    type InspectOptions,
    type InspectedArray,
    type InspectedTensor,
    type InspectedValue,
} from './inspect.js';
