// Builds libthinktree_cuda_emu.so: the CUDA library's sources (native/sources.json "cuda") compiled by
// the host C++ compiler against the CPU emulator in cuda_emu.h, so that the kernels run where no GPU
// exists (test/cuda/kernels.emu.test.ts). Kernel launches `K<<<grid, block, smem, stream>>>(args)` are
// rewritten to `tt_emu::Launch([&] { K(args); }, grid, block, smem, stream)`; nothing else changes.
// Usage: node native/cuda/emu/build.mjs  (npm run build:cuda-emu). Needs only g++.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = path.join(root, 'build-cuda-emu');
const sources = JSON.parse(readFileSync(path.join(root, 'native', 'sources.json'), 'utf8')).cuda;

/** Index of the bracket closing the one at `open` (same kind), skipping nested pairs. */
function closing(text, open, o, c) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === o) depth++;
    else if (text[i] === c && --depth === 0) return i;
  }
  throw new Error(`unbalanced ${o}${c} at ${open}`);
}

function rewriteLaunches(text, file) {
  let at;
  while ((at = text.indexOf('<<<')) >= 0) {
    const end = text.indexOf('>>>', at);
    const config = text.slice(at + 3, end);
    // the kernel name: an identifier with an optional template argument list, read backwards
    let start = at;
    if (text[start - 1] === '>') {
      let depth = 0;
      for (start = at - 1; start >= 0; start--) {
        if (text[start] === '>') depth++;
        else if (text[start] === '<' && --depth === 0) break;
      }
    }
    while (start > 0 && /[A-Za-z0-9_:]/.test(text[start - 1])) start--;
    const kernel = text.slice(start, at);
    const argsOpen = end + 3;
    if (text[argsOpen] !== '(') throw new Error(`${file}: launch of ${kernel} without arguments`);
    const argsClose = closing(text, argsOpen, '(', ')');
    const args = text.slice(argsOpen + 1, argsClose);
    text = text.slice(0, start) + `::tt_emu::Launch([&] { ${kernel}(${args}); }, ${config})` + text.slice(argsClose + 1);
  }
  return text;
}

mkdirSync(path.join(out, 'src'), { recursive: true });
const objects = [];
for (const rel of sources) {
  const src = path.join(root, rel);
  const flat = path.join(out, 'src', rel.replaceAll('/', '__').replace(/\.cu$/, '.cc'));
  writeFileSync(flat, rewriteLaunches(readFileSync(src, 'utf8'), rel));
  const obj = flat.replace(/\.cc$/, '.o');
  execFileSync('g++', [
    '-std=c++17', '-O2', '-g', '-fPIC', '-c', flat, '-o', obj,
    '-iquote', path.dirname(src),
    '-I', path.join(root, 'native', 'cuda', 'emu', 'include'),
    '-include', path.join(root, 'native', 'cuda', 'emu', 'cuda_emu.h'),
    '-D__CUDACC__', '-DTT_CUDA_EMU', '-DTHINKTREE_CUDA_BUILD', '-fvisibility=hidden', '-Wno-unknown-pragmas',
  ], { stdio: 'inherit' });
  objects.push(obj);
}
const lib = path.join(out, 'libthinktree_cuda_emu.so');
execFileSync('g++', ['-shared', '-o', lib, ...objects], { stdio: 'inherit' });
console.log(`built ${path.relative(root, lib)}`);
