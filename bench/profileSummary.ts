/**
 * Summarize a V8 .cpuprofile (from node --cpu-prof): self time by area
 * (project file, npm package, node internals, GC; native code is charged
 * to the area of its nearest JavaScript caller) and the functions with the
 * most self time.
 *
 *   node dist/bench/profileSummary.js var/bench/profiles/<run>/db-ndb4/*.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** The profile file, or what the added-up profiles were. */
  file: string;
  /** Milliseconds sampled, idle included. */
  totalMs: number;
  idleMs: number;
  /** Self time by area, milliseconds, busiest first; percentages are of the busy (non-idle) time. */
  areas: { area: string; ms: number; pctBusy: number }[];
  /** The same with node's own code charged to the project file or npm package that called it. */
  chargedAreas: { area: string; ms: number; pctBusy: number }[];
  functions: { name: string; where: string; ms: number; pctBusy: number }[];
}

function areaOf(f: CallFrame): string {
  const url = f.url;
  if (!url) {
    if (f.functionName === '(idle)') return '(idle)';
    if (f.functionName === '(garbage collector)') return '(garbage collector)';
    if (f.functionName === '(program)') return '(program)';
    return '(native)';
  }
  if (url.startsWith('node:')) {
    const m = /^node:(internal\/)?([^/]+)/.exec(url);
    return `node:${m ? m[2] : url}`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  const dist = /\/dist\/(.*)$/.exec(url);
  if (dist) return dist[1];
  return url.replace(/^file:\/\//, '');
}

/** Self time of one or more profiles (e.g. every DB of a run), added up. */
export function summarizeProfiles(files: string[], label: string, top = 20): ProfileSummary {
  const areas = new Map<string, number>();
  const chargedAreas = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of profile.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    /** The nearest caller with a source location: native code (a socket write, JSON) is charged to it. */
    const jsCaller = (id: number): ProfileNode | undefined => {
      for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
        const n = byId.get(p);
        if (n?.callFrame.url) return n;
      }
      return undefined;
    };
    /** The nearest caller in the project or an npm package: what made node's internals do the work. */
    const userCaller = (id: number): ProfileNode | undefined => {
      for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
        const n = byId.get(p);
        if (n?.callFrame.url && !n.callFrame.url.startsWith('node:')) return n;
      }
      return undefined;
    };
    const selfUs = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    for (const [id, us] of selfUs) {
      const node = byId.get(id);
      if (!node) continue;
      total += us;
      let area = areaOf(node.callFrame);
      if (area === '(idle)') {
        idle += us;
        continue;
      }
      const caller = area === '(native)' ? jsCaller(id) : undefined;
      if (caller) area = areaOf(caller.callFrame);
      areas.set(area, (areas.get(area) ?? 0) + us);
      const user = area.startsWith('node:') || area === '(native)' ? userCaller(id) : undefined;
      const charged = user ? areaOf(user.callFrame) : area;
      chargedAreas.set(charged, (chargedAreas.get(charged) ?? 0) + us);
      const at = (f: CallFrame) => `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
      const where = node.callFrame.url ? at(node.callFrame) : caller ? `native, called from ${caller.callFrame.functionName || '(anonymous)'} ${at(caller.callFrame)}` : '';
      const key = `${node.callFrame.functionName}@${where}`;
      const f = fns.get(key) ?? { name: node.callFrame.functionName || '(anonymous)', where, us: 0 };
      f.us += us;
      fns.set(key, f);
    }
  }
  const busy = Math.max(1, total - idle);
  return {
    file: label,
    totalMs: total / 1000,
    idleMs: idle / 1000,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, pctBusy: (100 * us) / busy })),
    chargedAreas: [...chargedAreas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, pctBusy: (100 * us) / busy })),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, pctBusy: (100 * f.us) / busy })),
  };
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  return summarizeProfiles([file], file, top);
}

export function formatProfile(s: ProfileSummary, areas = 15): string {
  const lines = [`${s.file}`, `  sampled ${(s.totalMs / 1000).toFixed(1)} s, busy ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s`, '  self time by area (% of busy):'];
  for (const a of s.areas.slice(0, areas)) lines.push(`    ${a.pctBusy.toFixed(1).padStart(5)}%  ${a.area}`);
  lines.push("  self time with node's internals charged to the package or project file that called them:");
  for (const a of s.chargedAreas.slice(0, areas)) lines.push(`    ${a.pctBusy.toFixed(1).padStart(5)}%  ${a.area}`);
  lines.push('  top functions by self time (% of busy):');
  for (const f of s.functions) lines.push(`    ${f.pctBusy.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  return lines.join('\n');
}

if (require.main === module) {
  const files = process.argv.slice(2).filter((a) => a.endsWith('.cpuprofile'));
  if (files.length === 0) {
    console.error('usage: node dist/bench/profileSummary.js FILE.cpuprofile... (added up)');
    process.exit(2);
  }
  console.log(formatProfile(summarizeProfiles(files, files.length === 1 ? files[0] : `${files.length} profiles`, 25), 20));
}
