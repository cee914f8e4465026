import { FrameReader, shareByPart, type CpuProfile, type Frame, type Part } from './cpu-profile';

const inModule =
  (pattern: RegExp, names?: RegExp) =>
  (frame: Frame): boolean =>
    pattern.test(frame.module) && (names === undefined || names.test(frame.name));

/**
 * The parts of a request's CPU in the host, nearest first: a frame belongs to the first part that
 * claims it, and a sample to the part of the nearest frame that has one. docs/performance.md
 * reads them as the breakdown of GET /api/me.
 */
export const requestParts: readonly Part[] = [
  { name: 'promise hooks (AsyncLocalStorage)', has: inModule(/^node:(internal\/)?async_hooks/) },
  { name: 'JWT verification (cached)', has: inModule(/^(jose$|shared\/adapters\/identity\/)/) },
  { name: 'rate limits', has: inModule(/^shared\/app\/request-limits\.ts$/) },
  {
    name: 'the invocation log line',
    has: (frame) =>
      inModule(/^(shared\/adapters\/(invocation-log|logger)\.ts|shared\/redact\.ts)$/)(frame) ||
      inModule(/^test\/bench\/host-process\.ts$/)(frame) ||
      inModule(/^shared\/local\/host\.ts$/, /logHandler|^log$/)(frame) ||
      inModule(/^@azure\/functions$/, /^log$|InvocationContext\.log/)(frame),
  },
  { name: 'the request charge', has: inModule(/^shared\/app\/invocation\.ts$/, /RequestCharge/) },
  {
    name: 'the deadline',
    has: (frame) =>
      inModule(/^shared\/app\/call-deadline\.ts$/)(frame) ||
      inModule(/^shared\/adapters\/cosmos\/operations\.ts$/, /^cosmos(Call|Read)$/)(frame),
  },
  {
    name: "prompt delivery's check",
    has: inModule(/^shared\/(adapters\/prompt-delivery|app\/event-scope)\.ts$/),
  },
  {
    name: 'response building and writing',
    has: (frame) =>
      inModule(/^shared\/http\/(responses|views)\.ts$|^shared\/http\/schemas\//)(frame) ||
      inModule(/^shared\/http\/define\.ts$/, /toResponse|answer/)(frame) ||
      inModule(/^shared\/local\/host\.ts$/, /writeResponse/)(frame),
  },
  {
    name: 'the Cosmos SDK and its HTTP client (as the raw read)',
    has: inModule(/^@(azure\/(cosmos|core-|abort-controller|logger)|typespec\/)/),
  },
  {
    name: 'request intake (local host, @azure/functions HttpRequest, undici)',
    has: inModule(
      /^(@azure\/functions|@azure\/functions-extensions-base|cookie)$|undici|^shared\/local\/|^shared\/http\/routes\.ts$/,
    ),
  },
  { name: 'the use case (read, view, guards)', has: inModule(/^(shared|functions)\//) },
];

/** What no part claims, by where it ran. */
function rest(leaf: Frame): string {
  if (leaf.module === '(garbage collector)') return 'garbage collection';
  if (
    /^node:(_http_|net|internal\/(streams|stream_base_commons|http))|^node:stream/.test(leaf.module)
  )
    return "sockets and Node's HTTP (server and client)";
  if (/^\((writev|writeLatin1String|writeUtf8String|utf8Write|writeBuffer)\)$/.test(leaf.module))
    return "sockets and Node's HTTP (server and client)";
  return 'other (event loop, microtasks, Node internals)';
}

export interface RequestBreakdown {
  /** Host CPU per request, µs, from the measured run (not the profiled one). */
  cpuMicrosecondsPerRequest: number;
  parts: { part: string; microseconds: number; share: number }[];
}

/** The host's CPU per request split by part, from a profile of it under the same load. */
export function requestBreakdown(
  profile: CpuProfile,
  cpuMicrosecondsPerRequest: number,
): RequestBreakdown {
  const shares = shareByPart([profile], new FrameReader(), requestParts, rest);
  const parts = [...shares]
    .map(([part, share]) => ({
      part,
      microseconds: Math.round(share * cpuMicrosecondsPerRequest),
      share: Number(share.toFixed(3)),
    }))
    .sort((a, b) => b.share - a.share);
  return { cpuMicrosecondsPerRequest, parts };
}
