/**
 * A small WebAssembly text (WAT) assembler for the engine's own kernels (kernels/wasm/kernels.ts):
 * the folded S-expression subset they are written in, turned into a module binary at run time,
 * so the kernels live in the repository as readable source with no build tool.
 *
 * Supported: `(module …)` with `(memory (export "name") pages)` and
 * `(func $name (export "name") (param $p type)* (result type)? (local $l type)* body…)`;
 * instructions in folded form `(op immediates… operands…)` or plain `op immediates…`;
 * `block`/`loop` with a `$label`, `(if (then …) (else …))`, `br`/`br_if` to a label; locals and
 * params by `$name`; memory immediates `offset=` / `align=`; lane indices; i32/f32/f64 constants.
 * Types: i32, f32, f64, v128. Anything else throws with the offending token.
 */

type Sexp = string | Sexp[];

const TYPE: Record<string, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Plain opcodes (no immediates). */
const PLAIN: Record<string, number> = {
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'f32.eq': 0x5b,
  'f32.ne': 0x5c,
  'f32.lt': 0x5d,
  'f32.gt': 0x5e,
  'f32.le': 0x5f,
  'f32.ge': 0x60,
  'f64.eq': 0x61,
  'f64.ne': 0x62,
  'f64.lt': 0x63,
  'f64.gt': 0x64,
  'f64.le': 0x65,
  'f64.ge': 0x66,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.div_s': 0x6d,
  'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f,
  'i32.rem_u': 0x70,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'f32.abs': 0x8b,
  'f32.neg': 0x8c,
  'f32.sqrt': 0x91,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.div': 0x95,
  'f32.min': 0x96,
  'f32.max': 0x97,
  'f64.abs': 0x99,
  'f64.neg': 0x9a,
  'f64.sqrt': 0x9f,
  'f64.add': 0xa0,
  'f64.sub': 0xa1,
  'f64.mul': 0xa2,
  'f64.div': 0xa3,
  'f64.min': 0xa4,
  'f64.max': 0xa5,
  'i32.trunc_f32_s': 0xa8,
  'i32.trunc_f64_s': 0xaa,
  'f32.convert_i32_s': 0xb2,
  'f32.demote_f64': 0xb6,
  'f64.convert_i32_s': 0xb7,
  'f64.promote_f32': 0xbb,
};

/** 0xFC-prefixed (saturating truncations). */
const FC: Record<string, number> = { 'i32.trunc_sat_f32_s': 0, 'i32.trunc_sat_f64_s': 2 };

/** 0xFD-prefixed SIMD opcodes without immediates. */
const SIMD: Record<string, number> = {
  'i32x4.splat': 0x11,
  'f32x4.splat': 0x13,
  'f64x2.splat': 0x14,
  'i32x4.eq': 0x37,
  'i32x4.ne': 0x38,
  'i32x4.lt_s': 0x39,
  'i32x4.gt_s': 0x3b,
  'i32x4.le_s': 0x3d,
  'i32x4.ge_s': 0x3f,
  'f32x4.eq': 0x41,
  'f32x4.ne': 0x42,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.le': 0x45,
  'f32x4.ge': 0x46,
  'v128.not': 0x4d,
  'v128.and': 0x4e,
  'v128.andnot': 0x4f,
  'v128.or': 0x50,
  'v128.xor': 0x51,
  'v128.bitselect': 0x52,
  'f32x4.demote_f64x2_zero': 0x5e,
  'f64x2.promote_low_f32x4': 0x5f,
  'i32x4.add': 0xae,
  'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f64x2.add': 0xf0,
  'f64x2.sub': 0xf1,
  'f64x2.mul': 0xf2,
  'f64x2.div': 0xf3,
  'i32x4.trunc_sat_f32x4_s': 0xf8,
};

/** Memory instructions: opcode (plain, or SIMD when `simd`), natural alignment (log2 bytes). */
const MEM: Record<string, { op: number; align: number; simd?: boolean }> = {
  'i32.load': { op: 0x28, align: 2 },
  'f32.load': { op: 0x2a, align: 2 },
  'f64.load': { op: 0x2b, align: 3 },
  'i32.load8_u': { op: 0x2d, align: 0 },
  'i32.load16_s': { op: 0x2e, align: 1 },
  'i32.store': { op: 0x36, align: 2 },
  'f32.store': { op: 0x38, align: 2 },
  'f64.store': { op: 0x39, align: 3 },
  'i32.store16': { op: 0x3b, align: 1 },
  'v128.load': { op: 0x00, align: 4, simd: true },
  'v128.load32_splat': { op: 0x09, align: 2, simd: true },
  'v128.store': { op: 0x0b, align: 4, simd: true },
  'v128.load64_zero': { op: 0x5d, align: 3, simd: true },
};

/** SIMD instructions with a memory immediate and a lane (store64_lane) or a lane alone. */
const MEM_LANE: Record<string, { op: number; align: number }> = {
  'v128.store64_lane': { op: 0x5b, align: 3 },
};
const LANE: Record<string, number> = {
  'i32x4.extract_lane': 0x1b,
  'f32x4.extract_lane': 0x1f,
  'f64x2.extract_lane': 0x21,
};

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\(;[\s\S]*?;\)|;;[^\n]*|"(?:[^"\\]|\\.)*"|[()]|[^\s()";]+/g;
  for (const m of src.matchAll(re)) {
    const t = m[0];
    if (t.startsWith(';;') || t.startsWith('(;')) continue;
    out.push(t);
  }
  return out;
}

function parse(tokens: string[]): Sexp {
  let i = 0;
  const read = (): Sexp => {
    const t = tokens[i++];
    if (t === undefined) throw new Error('wat: unexpected end');
    if (t === ')') throw new Error('wat: unexpected )');
    if (t !== '(') return t;
    const list: Sexp[] = [];
    while (tokens[i] !== ')') {
      if (i >= tokens.length) throw new Error('wat: missing )');
      list.push(read());
    }
    i++;
    return list;
  };
  const s = read();
  if (i !== tokens.length) throw new Error('wat: text after the module');
  return s;
}

function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(n: number, out: number[]): void {
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function str(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

function unquote(t: Sexp): string {
  if (typeof t !== 'string' || !t.startsWith('"'))
    throw new Error(`wat: expected a string, got ${String(t)}`);
  return t.slice(1, -1);
}

function num(t: Sexp | undefined): number {
  if (typeof t !== 'string') throw new Error(`wat: expected a number, got ${String(t)}`);
  const v = Number(t.replace(/_/g, ''));
  if (!Number.isFinite(v)) throw new Error(`wat: bad number ${t}`);
  return v;
}

interface FuncDef {
  name: string;
  exportName?: string;
  params: number[];
  results: number[];
  locals: number[];
  names: Map<string, number>;
  body: Sexp[];
}

function funcDef(f: Sexp[]): FuncDef {
  let k = 1;
  const def: FuncDef = {
    name: '',
    params: [],
    results: [],
    locals: [],
    names: new Map(),
    body: [],
  };
  if (typeof f[k] === 'string' && (f[k] as string).startsWith('$')) def.name = f[k++] as string;
  for (; k < f.length; k++) {
    const item = f[k];
    if (!Array.isArray(item) || typeof item[0] !== 'string') break;
    const head = item[0];
    if (head === 'export') def.exportName = unquote(item[1]);
    else if (head === 'param' || head === 'local') {
      const list = head === 'param' ? def.params : def.locals;
      const named = typeof item[1] === 'string' && item[1].startsWith('$');
      const types = named ? [item[2]] : item.slice(1);
      if (named) def.names.set(item[1] as string, def.params.length + def.locals.length);
      for (const t of types) {
        const code = TYPE[t as string];
        if (code === undefined) throw new Error(`wat: unknown type ${String(t)}`);
        list.push(code);
      }
    } else if (head === 'result') {
      for (const t of item.slice(1)) def.results.push(TYPE[t as string]);
    } else break;
  }
  def.body = f.slice(k);
  return def;
}

function floatBytes(v: number, bytes: 4 | 8, out: number[]): void {
  const b = new DataView(new ArrayBuffer(bytes));
  if (bytes === 4) b.setFloat32(0, v, true);
  else b.setFloat64(0, v, true);
  for (let i = 0; i < bytes; i++) out.push(b.getUint8(i));
}

/** The code of one function body. */
function encodeBody(def: FuncDef, funcs: Map<string, number>): number[] {
  const code: number[] = [];
  const labels: string[] = [];
  const local = (t: Sexp | undefined): number => {
    if (typeof t !== 'string') throw new Error(`wat: expected a local in ${def.name}`);
    if (t.startsWith('$')) {
      const i = def.names.get(t);
      if (i === undefined) throw new Error(`wat: unknown local ${t} in ${def.name}`);
      return i;
    }
    return num(t);
  };
  const depth = (t: Sexp | undefined): number => {
    if (typeof t !== 'string') throw new Error('wat: expected a label');
    if (!t.startsWith('$')) return num(t);
    const i = labels.lastIndexOf(t);
    if (i < 0) throw new Error(`wat: unknown label ${t} in ${def.name}`);
    return labels.length - 1 - i;
  };
  const memarg = (items: Sexp[], align: number): number => {
    let offset = 0;
    let used = 0;
    for (const it of items) {
      if (typeof it !== 'string') break;
      if (it.startsWith('offset=')) offset = num(it.slice(7));
      else if (it.startsWith('align=')) align = Math.log2(num(it.slice(6)));
      else break;
      used++;
    }
    uleb(align, code);
    uleb(offset, code);
    return used;
  };
  /** Emit one instruction; `items` are its immediates and folded operands (operands first). */
  const instr = (op: string, items: Sexp[]): void => {
    const operands = (from: number) => {
      for (const it of items.slice(from)) {
        if (!Array.isArray(it)) throw new Error(`wat: stray token ${String(it)} after ${op}`);
        expr(it);
      }
    };
    if (op === 'block' || op === 'loop') {
      let k = 0;
      const label = typeof items[0] === 'string' && items[0].startsWith('$') ? items[k++] : '';
      code.push(op === 'block' ? 0x02 : 0x03, 0x40);
      labels.push(label as string);
      for (const it of items.slice(k)) expr(it as Sexp[]);
      labels.pop();
      code.push(0x0b);
      return;
    }
    if (op === 'if') {
      const rest = items.filter(
        (it) => !(Array.isArray(it) && (it[0] === 'then' || it[0] === 'else')),
      );
      for (const it of rest) expr(it as Sexp[]);
      code.push(0x04, 0x40);
      labels.push('');
      const then = items.find((it) => Array.isArray(it) && it[0] === 'then') as Sexp[] | undefined;
      const els = items.find((it) => Array.isArray(it) && it[0] === 'else') as Sexp[] | undefined;
      for (const it of then?.slice(1) ?? []) expr(it as Sexp[]);
      if (els) {
        code.push(0x05);
        for (const it of els.slice(1)) expr(it as Sexp[]);
      }
      labels.pop();
      code.push(0x0b);
      return;
    }
    if (op === 'br' || op === 'br_if') {
      operands(1);
      code.push(op === 'br' ? 0x0c : 0x0d);
      uleb(depth(items[0]), code);
      return;
    }
    if (op === 'call') {
      operands(1);
      const target = items[0] as string;
      const idx = funcs.get(target);
      if (idx === undefined) throw new Error(`wat: unknown function ${target}`);
      code.push(0x10);
      uleb(idx, code);
      return;
    }
    if (op === 'local.get' || op === 'local.set' || op === 'local.tee') {
      operands(1);
      code.push(op === 'local.get' ? 0x20 : op === 'local.set' ? 0x21 : 0x22);
      uleb(local(items[0]), code);
      return;
    }
    if (op === 'i32.const') {
      code.push(0x41);
      sleb(num(items[0]), code);
      return;
    }
    if (op === 'f32.const' || op === 'f64.const') {
      code.push(op === 'f32.const' ? 0x43 : 0x44);
      floatBytes(num(items[0]), op === 'f32.const' ? 4 : 8, code);
      return;
    }
    if (op in PLAIN) {
      operands(0);
      code.push(PLAIN[op]);
      return;
    }
    if (op in FC) {
      operands(0);
      code.push(0xfc);
      uleb(FC[op], code);
      return;
    }
    if (op in SIMD) {
      operands(0);
      code.push(0xfd);
      uleb(SIMD[op], code);
      return;
    }
    if (op in LANE) {
      operands(1);
      code.push(0xfd);
      uleb(LANE[op], code);
      code.push(num(items[0]));
      return;
    }
    if (op in MEM || op in MEM_LANE) {
      const m = MEM[op] ?? MEM_LANE[op];
      const simd = op in MEM_LANE || MEM[op]?.simd === true;
      // immediates first in the text, operands after: emit the operands, then op + memarg
      let k = 0;
      while (typeof items[k] === 'string' && /^(offset|align)=/.test(items[k] as string)) k++;
      const lane = op in MEM_LANE ? num(items[k++]) : -1;
      operands(k);
      if (simd) {
        code.push(0xfd);
        uleb(m.op, code);
      } else code.push(m.op);
      memarg(items, m.align);
      if (lane >= 0) code.push(lane);
      return;
    }
    throw new Error(`wat: unsupported instruction ${op} in ${def.name}`);
  };
  const expr = (e: Sexp[]): void => {
    if (!Array.isArray(e) || typeof e[0] !== 'string')
      throw new Error(`wat: expected an instruction in ${def.name}, got ${JSON.stringify(e)}`);
    instr(e[0], e.slice(1));
  };
  // plain (unfolded) instructions at the top level are not used by the kernels: folded only
  for (const e of def.body) expr(e as Sexp[]);
  code.push(0x0b);
  // locals as runs of one type
  const runs: [number, number][] = [];
  for (const t of def.locals) {
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  const localGroups: number[] = [];
  uleb(runs.length, localGroups);
  for (const [count, t] of runs) {
    uleb(count, localGroups);
    localGroups.push(t);
  }
  return [...localGroups, ...code];
}

/** Assemble WAT text (the subset above) into a module binary. */
export function assemble(text: string): Uint8Array {
  const mod = parse(tokenize(text));
  if (!Array.isArray(mod) || mod[0] !== 'module') throw new Error('wat: expected (module …)');
  const fields = mod.slice(1) as Sexp[][];
  const defs = fields.filter((f) => f[0] === 'func').map(funcDef);
  const funcs = new Map(defs.map((d, i) => [d.name, i]));
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // types: one per function (duplicates are allowed)
  const types: number[] = [];
  uleb(defs.length, types);
  for (const d of defs) {
    types.push(0x60);
    uleb(d.params.length, types);
    types.push(...d.params);
    uleb(d.results.length, types);
    types.push(...d.results);
  }
  section(1, types, out);
  const fsec: number[] = [];
  uleb(defs.length, fsec);
  defs.forEach((_, i) => uleb(i, fsec));
  section(3, fsec, out);
  const exports: [string, number, number][] = [];
  const memories = fields.filter((f) => f[0] === 'memory');
  if (memories.length > 1) throw new Error('wat: one memory at most');
  if (memories.length === 1) {
    const m = memories[0];
    let k = 1;
    if (Array.isArray(m[k]) && (m[k] as Sexp[])[0] === 'export') {
      exports.push([unquote((m[k] as Sexp[])[1]), 0x02, 0]);
      k++;
    }
    const msec: number[] = [];
    uleb(1, msec);
    msec.push(0x00);
    uleb(num(m[k]), msec);
    section(5, msec, out);
  }
  defs.forEach((d, i) => {
    if (d.exportName) exports.push([d.exportName, 0x00, i]);
  });
  const esec: number[] = [];
  uleb(exports.length, esec);
  for (const [name, kind, idx] of exports) {
    str(name, esec);
    esec.push(kind);
    uleb(idx, esec);
  }
  section(7, esec, out);
  const csec: number[] = [];
  uleb(defs.length, csec);
  for (const d of defs) {
    const body = encodeBody(d, funcs);
    uleb(body.length, csec);
    csec.push(...body);
  }
  section(10, csec, out);
  return Uint8Array.from(out);
}
