// Stands in for the Functions worker: provides @azure/functions-core, whose registerFunction
// records what the app registers; prints the registrations as JSON when the process exits.
const Module = require('node:module');
const registrations = [];
const fakeCore = {
  version: '3.10.1',
  setProgrammingModel() {},
  registerHook() {
    return { dispose() {} };
  },
  log() {},
  registerFunction(metadata) {
    registrations.push(metadata);
    return { dispose() {} };
  },
};
const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (request === '@azure/functions-core') return fakeCore;
  return originalLoad.call(this, request, parent, isMain);
};
process.on('exit', () => {
  process.stdout.write(`\n@@REGISTRATIONS@@${JSON.stringify(registrations)}\n`);
});
