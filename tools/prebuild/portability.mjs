// Checks that a freshly built addon is safe to run on machines other than the one that built it.
//
// The addon is compiled for the x86-64 baseline, with AVX2/AVX-512 code only in the per-ISA static
// libraries (binding.gyp tt_isa_*), reached through dispatch after a CPUID check. The classic way this
// breaks is an inline function or template instantiated both in an ISA object and in a baseline
// object: the linker keeps one copy, and if it keeps the ISA one, baseline code calls AVX-512
// instructions and dies with SIGILL on an AVX2 host. So: every function in the final binary that
// contains a VEX/EVEX instruction must come from an ISA object. Needs binutils (nm, objdump),
// which come with the compiler the build needed anyway.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

function tool(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return r.stdout;
}

function objectFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...objectFiles(p));
    else if (entry.name.endsWith('.o')) out.push(p);
  }
  return out;
}

/** Function symbols (text, strong or weak, global or local) that `files` define: { name, local }[]. */
function definedFunctions(files) {
  const out = [];
  if (files.length === 0) return out;
  for (const line of tool('nm', ['--defined-only', ...files]).split('\n')) {
    const m = /^([0-9a-f]+) ([TtWwi]) (\S+)$/.exec(line.trim());
    if (m) out.push({ address: m[1], name: m[3], local: m[2] === 't' });
  }
  return out;
}

/** Every function body in `binary`: its address, name, and whether it holds a VEX/EVEX (AVX*) instruction. */
function functionBodies(binary) {
  const bodies = [];
  let current = null;
  for (const line of tool('objdump', ['-d', '--no-show-raw-insn', binary]).split('\n')) {
    const head = /^0*([0-9a-f]+) <(.+)>:$/.exec(line);
    if (head) {
      current = { address: head[1], name: head[2], avx: false };
      bodies.push(current);
      continue;
    }
    if (current === null || current.avx) continue;
    const ins = /^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$/.exec(line);
    if (ins === null) continue;
    const [, mnemonic, operands] = ins;
    // VEX/EVEX mnemonics start with v (vmovups, vfmadd231ps, vzeroupper); ymm/zmm/k registers are AVX only.
    current.avx = (mnemonic.startsWith('v') && !/^ver[rw]$/.test(mnemonic)) || /%[yz]mm\d|%k[0-7]\b/.test(operands);
  }
  return bodies;
}

const count = (names) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map());

/**
 * Problems found in `addonPath` (build/Release/thinktree.node), as sentences; empty when it is portable.
 * Object files are read from the node-gyp tree next to it (obj.target/<target>/...).
 *   - A global or weak function with AVX code that a baseline object also defines: the linker kept
 *     the ISA copy of an inline/template function that baseline code calls (the ODR trap).
 *   - A function with AVX code that no ISA object defines: a baseline file was built with ISA flags.
 *   - Local (static / anonymous-namespace) functions are per file and never merged, so for them the
 *     number of AVX bodies must not exceed the number of ISA objects that define that name.
 */
export function checkPortability(addonPath) {
  const objRoot = path.join(path.dirname(addonPath), 'obj.target');
  const targets = readdirSync(objRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const isaTargets = targets.filter((t) => t.startsWith('tt_isa_'));
  if (isaTargets.length === 0) return [`no tt_isa_* objects under ${objRoot}: is binding.gyp's ISA split gone?`];
  const objects = (ts) => ts.flatMap((t) => objectFiles(path.join(objRoot, t)));
  const baseline = definedFunctions(objects(targets.filter((t) => !t.startsWith('tt_isa_'))));
  const isa = definedFunctions(objects(isaTargets));
  const baselineGlobal = new Set(baseline.filter((f) => !f.local).map((f) => f.name));
  const isaNames = new Set(isa.map((f) => f.name));
  const isaLocalCount = count(isa.filter((f) => f.local).map((f) => f.name));
  const localAt = new Map(definedFunctions([addonPath]).map((f) => [f.address.replace(/^0+/, ''), f.local]));

  const problems = [];
  const avxLocals = [];
  for (const body of functionBodies(addonPath)) {
    if (!body.avx) continue;
    if (localAt.get(body.address) === true) {
      avxLocals.push(body.name);
    } else if (!isaNames.has(body.name)) {
      problems.push(`${body.name} has AVX code but no ISA object defines it: was a baseline file built with ISA flags?`);
    } else if (baselineGlobal.has(body.name)) {
      problems.push(`${body.name} has AVX code but baseline objects define it too: the linker kept an ISA copy (demangle with c++filt)`);
    }
  }
  for (const [name, n] of count(avxLocals)) {
    if (n > (isaLocalCount.get(name) ?? 0)) {
      problems.push(`${name} has AVX code in ${n} copies but only ${isaLocalCount.get(name) ?? 0} ISA objects define it: a baseline copy uses AVX`);
    }
  }
  return problems;
}

/** Newest glibc and libstdc++ symbol versions the binary needs: what a target machine must provide. */
export function requiredRuntimeVersions(binary) {
  const newest = (prefix) => {
    const versions = [...tool('objdump', ['-T', binary]).matchAll(new RegExp(`${prefix}_([0-9.]+)`, 'g'))].map((m) => m[1]);
    versions.sort((a, b) => {
      const pa = a.split('.').map(Number);
      const pb = b.split('.').map(Number);
      for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
      return 0;
    });
    return versions.at(-1) ?? null;
  };
  return { glibc: newest('GLIBC'), glibcxx: newest('GLIBCXX') };
}
