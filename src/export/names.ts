// The names of an exported network's input and output (shared by the exporter and the ONNX
// Runtime path, which imports no engine code).
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'logits';
