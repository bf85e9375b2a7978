export * from './png.js';
export * from './overlay.js';
export * from './report.js';
export * from './evaluations.js';
