import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A V8 CPU profile (--cpu-prof, or the inspector's Profiler.stop). */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
  /** Self samples by line (1-based), for code that has lines to tell apart. */
  positionTicks?: { line: number; ticks: number }[];
}

/** Where a frame's code comes from: a package, an app module, a Node built-in, or V8 itself. */
export interface Frame {
  /** `zod`, `@azure/cosmos`, `shared/http/define.ts`, `node:_http_server`, `(garbage collector)`. */
  module: string;
  name: string;
}

/**
 * Reads frames through the source maps beside the bundles (linked or not), so that a profile of
 * the bundled host or of a cold start names the TypeScript module and function.
 */
export class FrameReader {
  private readonly maps = new Map<string, SourceMap | null>();

  frame(callFrame: ProfileNode['callFrame'], line = callFrame.lineNumber): Frame {
    const { url, functionName } = callFrame;
    if (url === '') {
      const native = functionName.startsWith('(') ? functionName : `(${functionName || 'native'})`;
      return { module: native, name: functionName };
    }
    if (url.startsWith('node:')) return { module: url, name: functionName };
    const map = this.mapOf(url);
    const entry = map?.findEntry(line, line === callFrame.lineNumber ? callFrame.columnNumber : 0);
    const found = entry as { originalSource?: string; name?: string } | undefined;
    const source = found?.originalSource ?? url;
    const name = found?.name || functionName;
    return { module: moduleOf(source), name };
  }

  private mapOf(url: string): SourceMap | null {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (!this.maps.has(file)) {
      const mapFile = `${file}.map`;
      this.maps.set(
        file,
        existsSync(mapFile)
          ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as never)
          : null,
      );
    }
    return this.maps.get(file) ?? null;
  }
}

/** A package by its name, an app module by its path in the repository. */
function moduleOf(source: string): string {
  const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (packaged) return packaged[1]!;
  const webpacked = /^webpack:\/\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (webpacked) return webpacked[1]!;
  const app = /(?:^|\/)((?:functions|shared|test)\/.*)$/.exec(source.replace(/^(\.\.\/)+/, ''));
  return app ? app[1]! : source;
}

function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return self;
}

const idle = new Set(['(idle)', '(program)']);

/**
 * The profile's busy time (µs) by source module: each sample goes to the module of the code that
 * was running, line by line where the code has lines (an unminified bundle's top-level code
 * holds many modules, one after the other).
 */
export function timeByModule(profiles: CpuProfile[], reader: FrameReader): Map<string, number> {
  const byModule = new Map<string, number>();
  const add = (module: string, time: number): void => {
    byModule.set(module, (byModule.get(module) ?? 0) + time);
  };
  for (const profile of profiles) {
    const self = selfTimes(profile);
    for (const node of profile.nodes) {
      const time = self.get(node.id);
      if (!time || idle.has(node.callFrame.functionName)) continue;
      const ticks = node.positionTicks ?? [];
      const total = ticks.reduce((sum, tick) => sum + tick.ticks, 0);
      if (total === 0) {
        add(reader.frame(node.callFrame).module, time);
        continue;
      }
      for (const tick of ticks)
        add(reader.frame(node.callFrame, tick.line - 1).module, (time * tick.ticks) / total);
    }
  }
  return byModule;
}

/** A part of a request's CPU, recognised by the frames it runs in. */
export interface Part {
  name: string;
  has(frame: Frame): boolean;
}

/**
 * Shares of the profile's busy time by part: each sample goes to the part of the frame nearest to
 * the code that was running (a socket write under the SDK is the SDK's, under the answer's
 * writing the answer's); what no part claims goes to `rest`.
 */
export function shareByPart(
  profiles: CpuProfile[],
  reader: FrameReader,
  parts: readonly Part[],
  rest: (leaf: Frame) => string,
): Map<string, number> {
  const byPart = new Map<string, number>();
  let busy = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes)
      for (const child of node.children ?? []) parents.set(child, node.id);
    const frames = new Map<number, Frame>();
    const frameOf = (node: ProfileNode): Frame => {
      let frame = frames.get(node.id);
      if (!frame) frames.set(node.id, (frame = reader.frame(node.callFrame)));
      return frame;
    };
    for (const [id, time] of selfTimes(profile)) {
      const leaf = nodes.get(id)!;
      if (idle.has(leaf.callFrame.functionName)) continue;
      busy += time;
      let part: string | undefined;
      for (let node: ProfileNode | undefined = leaf; node && !part;) {
        const frame = frameOf(node);
        part = parts.find((candidate) => candidate.has(frame))?.name;
        const parent = parents.get(node.id);
        node = parent === undefined ? undefined : nodes.get(parent);
      }
      const name = part ?? rest(frameOf(leaf));
      byPart.set(name, (byPart.get(name) ?? 0) + time);
    }
  }
  return new Map([...byPart].map(([name, time]) => [name, busy === 0 ? 0 : time / busy]));
}
