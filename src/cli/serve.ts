// `medseg serve MODEL [--data DIR] [--port N] [--host H]`: the viewer page of a model folder.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { parseInteger } from './args.js';

const HELP = `usage: medseg serve MODEL_OR_RUN_DIR|MODEL.medseg [--data DATASET_DIR] [--port N] [--host H]

Serves a web page (Niivue) over the model folder: its cases (out-of-fold predictions of every
configuration and fold) with the image and reference from DATASET_DIR (imagesTr/, labelsTr/,
dataset.json for label names) when given, per-label colours, opacity, per-case metrics of the
evaluations recorded under the model, and the training curves. Serves only files under these two
folders and the page itself; works offline. A .medseg package is unpacked (once, into the cache) and
served as its model folder. The same server has the in-browser segmentation page (/segment.html:
a NIfTI image and an ONNX export dropped in, segmented by onnxruntime-web in the page). Stop it
with Ctrl-C.

options:
  --data DIR   the dataset folder the model was trained on
  --port N     port (default 8765; 0 picks a free one)
  --host H     address to bind (default 127.0.0.1: this machine only)`;

export const command: Command = {
  name: 'serve',
  summary: 'a web viewer of a model: cases, overlays, metrics, curves',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          data: { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`one model folder is required\n\n${HELP}`);
    const port = parseInteger(values.port, 'port', { min: 0, max: 65535 });
    const { serveViewer } = await import('../web/server.js');
    // a .medseg package: its unpacked folder (as predict and report take one)
    const { isPackageFile, resolveModel } = await import('../transfer/open.js');
    const model = positionals[0]!;
    const modelDir = isPackageFile(model) ? await resolveModel(model, { log: (s) => console.log(s) }) : model;
    const server = await serveViewer({
      modelDir,
      ...(values.data !== undefined ? { dataDir: values.data } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(values.host !== undefined ? { host: values.host } : {}),
      log: (s) => console.log(s),
    });
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
