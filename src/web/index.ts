export * from './safePath.js';
export * from './catalog.js';
export * from './server.js';
