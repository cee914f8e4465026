// Stands in for the Azure Functions Node.js worker around the deploy bundle's entry: provides
// @azure/functions-core, loads the entry as the worker does (require of package.json main,
// azure-functions-nodejs-worker src/startApp.ts), and runs invocations the way its
// InvocationHandler does (src/eventHandlers/InvocationHandler.ts:39-152): the programming model's
// InvocationModel turns the host's RPC message into the handler's arguments, calls the
// registered callback, and turns its result into the RPC response. Only the gRPC channel is
// missing: the RPC messages are written here in the host's shape (ToRpcHttp).
//
// Usage: node functions-worker.cjs <entry> <invocations.json>; prints one JSON line after
// @@RESULTS@@: for each invocation { status, headers, body, logs }.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');

const [entry, invocationsFile] = process.argv.slice(2);
let programmingModel;
const functions = new Map();
const systemLogs = [];
const core = {
  version: '3.10.1',
  hostVersion: '4.1037.0',
  setProgrammingModel(model) {
    programmingModel = model;
  },
  registerHook() {
    return { dispose() {} };
  },
  log(level, category, message) {
    systemLogs.push({ level, category, message });
  },
  registerFunction(metadata, callback) {
    functions.set(metadata.name.toLowerCase(), { metadata, callback });
    return { dispose() {} };
  },
};
const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (request === '@azure/functions-core') return core;
  return originalLoad.call(this, request, parent, isMain);
};

/** A map as the host sends it with UseNullableValueDictionaryForHttp. */
const nullable = (record) =>
  Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, { value }]));

async function invoke({ functionName, method, url, headers, query, params, body }, index) {
  const registered = functions.get(functionName.toLowerCase());
  if (!registered) throw new Error(`no function ${functionName}`);
  const { metadata, callback } = registered;
  const trigger = Object.values(metadata.bindings).find((binding) => binding.direction === 'in');
  const logs = [];
  const coreCtx = {
    invocationId: `invocation-${index}`,
    metadata: { name: metadata.name, bindings: metadata.bindings },
    request: {
      invocationId: `invocation-${index}`,
      inputData: [
        {
          name: trigger.name,
          data: {
            http: {
              method,
              url,
              nullableHeaders: nullable(headers),
              nullableQuery: nullable(query),
              nullableParams: nullable(params),
              ...(body === undefined ? {} : { body: { bytes: Buffer.from(body, 'utf8') } }),
            },
          },
        },
      ],
      triggerMetadata: {},
    },
    state: undefined,
    log(level, category, message) {
      logs.push({ level, category, message });
    },
  };
  const model = await programmingModel.getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();
  coreCtx.state = 'invocation';
  let result;
  try {
    result = await model.invokeFunction(context, inputs, callback);
  } catch (error) {
    // The worker reports a failed invocation; the host then answers an empty 500.
    return { failed: String(error && error.message), logs };
  } finally {
    coreCtx.state = undefined;
  }
  const response = await model.getResponse(context, result);
  const http = response.returnValue.http;
  return {
    status: Number(http.statusCode),
    headers: http.headers,
    body: http.body && http.body.bytes ? Buffer.from(http.body.bytes).toString('utf8') : '',
    logs,
  };
}

(async () => {
  require(entry);
  await programmingModel.getCapabilities({ RawHttpBodyBytes: 'true' });
  const invocations = JSON.parse(readFileSync(invocationsFile, 'utf8'));
  const results = [];
  for (const [index, invocation] of invocations.entries())
    results.push(await invoke(invocation, index));
  process.stdout.write(`\n@@RESULTS@@${JSON.stringify(results)}\n`);
})().catch((error) => {
  process.stderr.write(`${error && error.stack}\n`);
  process.exit(1);
});
