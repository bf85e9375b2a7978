// Layers, blocks and U-Nets over the engine.
export * from './module.js';
export * from './layers.js';
export * from './blocks.js';
export * from './unet.js';
export * from './init.js';
export * from './safetensors.js';
export * from './loss.js';
export * from './checkpoint.js';
