/**
 * A small, fully synthetic model in the exact artifact format of MODEL_FORMAT.md (manifest +
 * gzip arrays), so engine tests need neither ../shared data nor the real model. Geometry is
 * defined relative to the grid extent, so the same builder makes the 24×28×24 test model and
 * the 96×120×104 stand-in the benchmark uses when no real model is present.
 *
 * Anatomy: an ellipsoidal head (scalp 507 → CSF 24 → cortex 3/42 → white matter 2/41) with
 * lateral ventricles 4/43 and hippocampi 17/53; left = x < 0 (RAS). Shape model: 3 smooth
 * global components. Regional basis (cortex, cerebral-wm, lateral-ventricles, hippocampus):
 * positive ventricle gain pulls sample points towards the ventricle centres, i.e. enlarges them.
 */
import { gzipSync } from 'fflate';
import conditionsSchema from '../../../brainsynth/schema/conditions.schema.json';
import { modelFromFiles, type Model } from '../model/loadModel';
import type { ModelManifest, Vec3 } from '../model/manifest';
import type { LabelInfo } from '../types';

export interface SyntheticModelOptions {
  /** Output grid [nx, ny, nz]; default [24, 28, 24]. */
  shape?: Vec3;
  /** Isotropic output spacing in mm; default 2. */
  spacing?: number;
  /** Velocity grid spacing in mm; default 6. */
  velocitySpacing?: number;
  id?: string;
  /** Extra pathologies (tests of the registry): schema fragment and labels, merged in. */
  pathologies?: SyntheticPathology[];
}

/** A pathology added to the synthetic model: what a new module brings besides its code. */
export interface SyntheticPathology {
  /** Its value of `conditions.pathology`. */
  id: string;
  /** Its conditions-schema fragment: the properties it adds (with x-showWhen). */
  schemaFragment: { properties: Record<string, Record<string, unknown>> };
  /** Its labels and their [T1w, T2w, FLAIR] mean intensities. */
  labels: { value: number; name: string; rgb: Vec3; appearance: [number, number, number] }[];
}

/** The conditions schema with each pathology's fragment merged in (enum entry + properties). */
export function mergeConditionsSchema(
  schema: Record<string, unknown>,
  pathologies: SyntheticPathology[],
): Record<string, unknown> {
  if (pathologies.length === 0) return schema;
  const props = { ...(schema.properties as Record<string, Record<string, unknown>>) };
  const order = [...((schema['x-order'] as string[] | undefined) ?? Object.keys(props))];
  for (const p of pathologies) {
    const enumValues = props.pathology.enum as string[];
    props.pathology = { ...props.pathology, enum: [...enumValues, p.id] };
    for (const [name, prop] of Object.entries(p.schemaFragment.properties)) {
      if (name in props) throw new Error(`schema fragment of '${p.id}' redefines '${name}'`);
      props[name] = prop;
      order.splice(order.indexOf('contrast'), 0, name);
    }
  }
  return { ...schema, properties: props, 'x-order': order };
}

const LABELS: [number, string, string, Vec3][] = [
  [0, 'Unknown', 'background', [0, 0, 0]],
  [2, 'Left-Cerebral-White-Matter', 'wm', [245, 245, 245]],
  [3, 'Left-Cerebral-Cortex', 'cortex', [205, 62, 78]],
  [4, 'Left-Lateral-Ventricle', 'ventricle', [120, 18, 134]],
  [17, 'Left-Hippocampus', 'hippocampus', [220, 216, 20]],
  [24, 'CSF', 'csf', [60, 60, 60]],
  [41, 'Right-Cerebral-White-Matter', 'wm', [245, 245, 245]],
  [42, 'Right-Cerebral-Cortex', 'cortex', [205, 62, 78]],
  [43, 'Right-Lateral-Ventricle', 'ventricle', [120, 18, 134]],
  [53, 'Right-Hippocampus', 'hippocampus', [220, 216, 20]],
  [507, 'Extra-cerebral 507 (muscle / soft tissue)', 'muscle', [150, 80, 70]],
  [701, 'MS-lesion', 'pathology', [255, 80, 0]],
  [711, 'Tumour-necrotic-core', 'pathology', [255, 255, 0]],
  [712, 'Tumour-enhancing-rim', 'pathology', [255, 0, 0]],
  [713, 'Peritumoural-oedema', 'pathology', [0, 200, 255]],
  [721, 'Chronic-infarct', 'pathology', [0, 255, 120]],
];

// Per label value: [T1w mean, T2w mean, FLAIR mean]; sd = 4 % of the mean (0 for background).
const APPEARANCE: Record<number, [number, number, number]> = {
  0: [0, 0, 0],
  2: [0.85, 0.35, 0.45],
  41: [0.85, 0.35, 0.45],
  3: [0.55, 0.6, 0.6],
  42: [0.55, 0.6, 0.6],
  4: [0.15, 1.0, 0.08],
  43: [0.15, 1.0, 0.08],
  17: [0.6, 0.62, 0.62],
  53: [0.6, 0.62, 0.62],
  24: [0.15, 1.0, 0.08],
  507: [0.7, 0.4, 0.5],
  701: [0.45, 0.8, 0.95],
  711: [0.2, 0.95, 0.3],
  712: [0.7, 0.7, 0.8],
  713: [0.55, 0.85, 0.9],
  721: [0.15, 1.0, 0.1],
};

export const SYNTHETIC_REGIONS = [
  { name: 'cortex', labels: [3, 42] },
  { name: 'cerebral-wm', labels: [2, 41] },
  { name: 'lateral-ventricles', labels: [4, 43] },
  { name: 'hippocampus', labels: [17, 53] },
];

const TERRITORY_CODES = {
  'ACA-left': 1,
  'ACA-right': 2,
  'MCA-left': 3,
  'MCA-right': 4,
  'PCA-left': 5,
  'PCA-right': 6,
};

function quantise(values: Float32Array, components: number): { data: Int16Array; scale: number[] } {
  const per = values.length / components;
  const data = new Int16Array(values.length);
  const scale: number[] = [];
  for (let c = 0; c < components; c++) {
    let max = 0;
    for (let i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(values[i]));
    const s = max > 0 ? max / 32767 : 1;
    scale.push(s);
    for (let i = c * per; i < (c + 1) * per; i++) data[i] = Math.round(values[i] / s);
  }
  return { data, scale };
}

const gz = (a: ArrayBufferView) =>
  gzipSync(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), { level: 1 });

export function buildSyntheticModel(opts: SyntheticModelOptions = {}): {
  manifest: ModelManifest;
  files: Record<string, Uint8Array>;
} {
  const shape = opts.shape ?? [24, 28, 24];
  const s = opts.spacing ?? 2;
  const vs = opts.velocitySpacing ?? 6;
  const [nx, ny, nz] = shape;
  const H: Vec3 = [((nx - 1) * s) / 2, ((ny - 1) * s) / 2, ((nz - 1) * s) / 2];
  const origin: Vec3 = [-H[0], -H[1], -H[2]];
  const vshape: Vec3 = [
    Math.ceil((2 * H[0]) / vs) + 1,
    Math.ceil((2 * H[1]) / vs) + 1,
    Math.ceil((2 * H[2]) / vs) + 1,
  ];
  const [vx, vy, vz] = vshape;
  const extra = (opts.pathologies ?? []).flatMap((p) => p.labels);
  const extraLook = new Map(extra.map((l) => [l.value, l.appearance]));
  const allLabels: [number, string, string, Vec3][] = [
    ...LABELS,
    ...extra.map((l): [number, string, string, Vec3] => [l.value, l.name, 'pathology', l.rgb]),
  ];
  const labels: LabelInfo[] = allLabels.map(([value, name, group, rgb], index) => ({
    index,
    value,
    name,
    rgb,
    group,
  }));
  const indexOf = new Map(labels.map((l) => [l.value, l.index]));
  const idx = (v: number) => indexOf.get(v) ?? 0;

  // Head ellipsoid semi-axes and inner structures, relative to the grid half-extent H.
  const head: Vec3 = [0.92 * H[0], 0.92 * H[1], 0.92 * H[2]];
  const vent = (side: number): { c: Vec3; r: Vec3 } => ({
    c: [side * 0.18 * H[0], 0, 0.1 * H[2]],
    r: [0.12 * H[0], 0.35 * H[1], 0.15 * H[2]],
  });
  const hippo = (side: number): { c: Vec3; r: Vec3 } => ({
    c: [side * 0.35 * H[0], -0.15 * H[1], -0.3 * H[2]],
    r: [0.09 * H[0], 0.16 * H[1], 0.09 * H[2]],
  });
  const inside = (p: Vec3, e: { c: Vec3; r: Vec3 }) =>
    ((p[0] - e.c[0]) / e.r[0]) ** 2 +
      ((p[1] - e.c[1]) / e.r[1]) ** 2 +
      ((p[2] - e.c[2]) / e.r[2]) ** 2 <=
    1;

  const n = nx * ny * nz;
  const template = new Uint8Array(n);
  const prior = new Uint8Array(n);
  const territories = new Uint8Array(n);
  let icvVoxels = 0;
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        const p: Vec3 = [origin[0] + s * i, origin[1] + s * j, origin[2] + s * k];
        const rho = Math.hypot(p[0] / head[0], p[1] / head[1], p[2] / head[2]);
        const left = p[0] < 0;
        let value = 0;
        if (rho > 1) value = 0;
        else if (rho > 0.88) value = 507;
        else if (rho > 0.8) value = 24;
        else if (rho > 0.66) value = left ? 3 : 42;
        else value = left ? 2 : 41;
        if (rho <= 0.8) {
          if (inside(p, vent(-1))) value = 4;
          else if (inside(p, vent(1))) value = 43;
          else if (inside(p, hippo(-1))) value = 17;
          else if (inside(p, hippo(1))) value = 53;
          // Higher lesion prior towards the centre (periventricular), zero outside the brain.
          prior[v] = Math.round(255 * Math.max(0, Math.min(1, 1.1 - rho / 0.8)));
          const yn = p[1] / H[1];
          const t = yn > 0.3 ? 'ACA' : yn < -0.3 ? 'PCA' : 'MCA';
          territories[v] =
            TERRITORY_CODES[`${t}-${left ? 'left' : 'right'}` as keyof typeof TERRITORY_CODES];
        }
        if (value >= 1 && value <= 499) icvVoxels++;
        template[v] = idx(value);
      }
    }
  }
  const voxelMl = (s * s * s) / 1000;
  const templateIcvMl = icvVoxels * voxelMl;

  // Vector fields on the velocity grid, interleaved [count, vz, vy, vx, 3] in mm.
  const nv = vx * vy * vz;
  const field = (count: number, f: (c: number, p: Vec3) => Vec3): Float32Array => {
    const out = new Float32Array(count * nv * 3);
    for (let c = 0; c < count; c++) {
      for (let k = 0, v = 0; k < vz; k++) {
        for (let j = 0; j < vy; j++) {
          for (let i = 0; i < vx; i++, v++) {
            const d = f(c, [origin[0] + vs * i, origin[1] + vs * j, origin[2] + vs * k]);
            out.set(d, (c * nv + v) * 3);
          }
        }
      }
    }
    return out;
  };
  const bump = (p: Vec3, c: Vec3, width: number) =>
    Math.exp(-((p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2 + (p[2] - c[2]) ** 2) / (2 * width * width));
  const shapeFields = field(3, (c, p) => {
    const [x, y, z] = [p[0] / H[0], p[1] / H[1], p[2] / H[2]];
    if (c === 0) return [x * 2, 0, 0];
    if (c === 1) return [0, 2 * Math.sin(Math.PI * y), 0];
    return [0, 0, 2 * z * Math.cos(x)];
  });
  const minH = Math.min(...H);
  const towards = (p: Vec3, c: Vec3, width: number, amp: number): Vec3 => {
    const b = (amp * bump(p, c, width)) / width;
    return [-(p[0] - c[0]) * b, -(p[1] - c[1]) * b, -(p[2] - c[2]) * b];
  };
  const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
  const basisFields = field(4, (r, p) => {
    const rho = Math.hypot(p[0] / head[0], p[1] / head[1], p[2] / head[2]) || 1e-6;
    const radial: Vec3 = [p[0] / rho / head[0], p[1] / rho / head[1], p[2] / rho / head[2]];
    if (r === 0) {
      // cortex: radial push around the cortical shell (positive gain thins the cortex).
      const b = 0.08 * minH * Math.exp(-(((rho - 0.73) / 0.12) ** 2));
      return [radial[0] * b, radial[1] * b, radial[2] * b];
    }
    if (r === 1) {
      // white matter: pull towards the centre (positive gain enlarges it).
      const b = -0.05 * minH * Math.exp(-((rho / 0.5) ** 2));
      return [radial[0] * b * rho, radial[1] * b * rho, radial[2] * b * rho];
    }
    if (r === 2)
      return add(
        towards(p, vent(-1).c, 0.3 * minH, 0.15 * minH),
        towards(p, vent(1).c, 0.3 * minH, 0.15 * minH),
      );
    return add(
      towards(p, hippo(-1).c, 0.2 * minH, 0.1 * minH),
      towards(p, hippo(1).c, 0.2 * minH, 0.1 * minH),
    );
  });
  const qShape = quantise(shapeFields, 3);
  const qBasis = quantise(basisFields, 4);

  const ages = Array.from({ length: 71 }, (_, i) => 20 + i);
  const gainRow = (age: number): number[] => {
    const t = (age - 20) / 70;
    return [0.5 * t, -0.3 * t, 0.3 + 1.5 * t, -0.5 * t];
  };
  const gains = ages.map(gainRow);
  const look = (value: number) => APPEARANCE[value] ?? extraLook.get(value) ?? [0, 0, 0];
  const col = (which: 0 | 1 | 2) => labels.map((l) => look(l.value)[which]);
  const sd = (which: 0 | 1 | 2) => labels.map((l) => 0.04 * look(l.value)[which]);

  const grid = {
    shape,
    spacing: [s, s, s] as Vec3,
    origin,
    affine: [
      [s, 0, 0, origin[0]],
      [0, s, 0, origin[1]],
      [0, 0, s, origin[2]],
      [0, 0, 0, 1],
    ],
  };
  const velocityGrid = {
    shape: vshape,
    spacing: [vs, vs, vs] as Vec3,
    origin,
    affine: [
      [vs, 0, 0, origin[0]],
      [0, vs, 0, origin[1]],
      [0, 0, vs, origin[2]],
      [0, 0, 0, 1],
    ],
  };
  const manifest: ModelManifest = {
    format: 'brainsynth-model/1',
    id: opts.id ?? 'synthetic-test',
    version: '0.0.1',
    kind: 'shape-model',
    created: '2026-01-01T00:00:00Z',
    softwareVersion: '0.1.0',
    conditionsSchema: mergeConditionsSchema(
      conditionsSchema as Record<string, unknown>,
      opts.pathologies ?? [],
    ),
    grid,
    velocityGrid,
    labels,
    labelRanges: { intracranial: [1, 499], extraCerebral: [500, 599], pathology: [700, 799] },
    arrays: {
      templateLabels: { file: 'template_labels.u8.gz', dtype: 'uint8', shape: [nx, ny, nz] },
      shapeComponents: {
        file: 'shape_components.i16.gz',
        dtype: 'int16',
        shape: [3, vz, vy, vx, 3],
        scale: qShape.scale,
      },
      regionalBasis: {
        file: 'regional_basis.i16.gz',
        dtype: 'int16',
        shape: [4, vz, vy, vx, 3],
        scale: qBasis.scale,
      },
      msLesionPrior: {
        file: 'ms_lesion_prior.u8.gz',
        dtype: 'uint8',
        shape: [nx, ny, nz],
        scale: 1 / 255,
      },
      territories: { file: 'territories.u8.gz', dtype: 'uint8', shape: [nx, ny, nz] },
    },
    shapeModel: { components: 3, sigma: [1, 0.8, 0.6], explainedVariance: [0.5, 0.3, 0.2] },
    regions: SYNTHETIC_REGIONS,
    calibration: {
      ages,
      gains: { female: gains, male: gains },
      icvMl: { female: templateIcvMl * 0.95, male: templateIcvMl * 1.06 },
      icvLogSd: 0.05,
      templateIcvMl,
      gridCentreMm: [0, 0, 0],
    },
    pathology: {
      alzheimers: { gainsAtSeverity1: [0.5, 0, 1.5, -1.0] },
      ms: {
        lesionVolumeLogMeanMl: Math.log(0.05),
        lesionVolumeLogSdMl: 0.7,
        elongation: 2,
        maxLesions: 60,
      },
      glioma: {
        oedemaFactor: 1.6,
        rimFraction: 0.25,
        necrosisFraction: 0.5,
        massEffectDecayMm: 30,
      },
      stroke: { territoryCodes: TERRITORY_CODES, exVacuoGain: 0.3 },
    },
    appearance: {
      contrasts: {
        T1w: { mean: col(0), sd: sd(0) },
        T2w: { mean: col(1), sd: sd(1) },
        FLAIR: { mean: col(2), sd: sd(2) },
        // post-contrast T1: T1w with the enhancing rim's uptake (+60 %)
        T1c: {
          mean: col(0).map((m, i) => (labels[i].value === 712 ? m * 1.6 : m)),
          sd: sd(0),
        },
      },
      ageSlopePerDecade: {
        T1w: { mean: labels.map((l) => (l.value === 2 || l.value === 41 ? -0.01 : 0)) },
      },
      partialVolumeSigmaVoxels: 0.6,
      textureSigmaVoxels: 1.0,
      biasFieldStrength: 0.12,
      snr: 30,
    },
    provenance: [
      { source: 'synthetic (src/engine/testing/syntheticModel.ts)', licence: 'MIT', use: 'tests' },
    ],
  };
  const files: Record<string, Uint8Array> = {
    'template_labels.u8.gz': gz(template),
    'shape_components.i16.gz': gz(qShape.data),
    'regional_basis.i16.gz': gz(qBasis.data),
    'ms_lesion_prior.u8.gz': gz(prior),
    'territories.u8.gz': gz(territories),
  };
  return { manifest, files };
}

/** The synthetic model, decoded and ready to sample. */
export function syntheticModel(opts: SyntheticModelOptions = {}): Model {
  const { manifest, files } = buildSyntheticModel(opts);
  return modelFromFiles(manifest, files, 'synthetic model');
}

/** A fetch over the in-memory files (for loadModel tests and the worker-host test). */
export function syntheticFetch(
  files: Record<string, Uint8Array>,
  manifest: unknown,
  base = 'mem://model/',
): (url: string) => Promise<Response> {
  return async (url: string) => {
    const name = url.startsWith(base) ? url.slice(base.length) : url;
    if (name === 'manifest.json') return new Response(JSON.stringify(manifest), { status: 200 });
    const bytes = files[name];
    if (!bytes) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(bytes.slice().buffer, { status: 200 });
  };
}
