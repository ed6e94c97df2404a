import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../engine/model';
import type { SampledVolume } from '../engine/types';
import {
  BATCH_LANE,
  BatchExport,
  bidsImageStem,
  batchProblems,
  batchSubjects,
  buildBidsZip,
  MIXED,
  participantsTsv,
  type BatchDeps,
  type BatchEntry,
  type BatchSpec,
} from './batchExport';
import { readConditionsSchema, type ConditionValues } from './schema';
import { smallLabels } from './testing/fakes';

const root = resolve(__dirname, '../..');
const schema = readConditionsSchema(
  JSON.parse(
    readFileSync(join(root, 'brainsynth/schema/conditions.schema.json'), 'utf8'),
  ) as JsonSchema,
);
const defaults: ConditionValues = Object.fromEntries(
  Object.entries(schema.properties).map(([k, p]) => [k, p.default as number | string]),
);

const spec = (over: Partial<BatchSpec> = {}): BatchSpec => ({
  count: 10,
  ageMin: 30,
  ageMax: 80,
  femaleShare: 0.5,
  pathology: 'none',
  contrast: 'T1w',
  seed: 7,
  ...over,
});

describe('batchSubjects', () => {
  it('draws ages in range, exactly round(share · n) women, one seed each; deterministic', () => {
    const s = batchSubjects(spec({ count: 9, femaleShare: 0.34 }), schema, defaults);
    expect(s.map((x) => x.participantId)).toEqual(
      Array.from({ length: 9 }, (_, i) => `sub-0000${i + 1}`),
    );
    expect(s.filter((x) => x.conditions.sex === 'female')).toHaveLength(3);
    for (const x of s) {
      expect(Number(x.conditions.age)).toBeGreaterThanOrEqual(30);
      expect(Number(x.conditions.age)).toBeLessThanOrEqual(80);
      expect(Number.isInteger(x.conditions.age)).toBe(true);
      expect(x.conditions).toMatchObject({ pathology: 'none', contrast: 'T1w' });
    }
    expect(new Set(s.map((x) => x.seed)).size).toBe(9);
    expect(batchSubjects(spec({ count: 9, femaleShare: 0.34 }), schema, defaults)).toEqual(s);
    expect(batchSubjects(spec({ count: 9, seed: 8 }), schema, defaults)).not.toEqual(s);
  });

  it('mixed: every pathology of the schema in turn, with its default parameters', () => {
    const s = batchSubjects(spec({ pathology: MIXED, count: 6 }), schema, defaults);
    expect(s.map((x) => x.conditions.pathology)).toEqual([
      'none',
      'alzheimers',
      'ms',
      'glioma',
      'stroke',
      'none',
    ]);
    expect(s[3].conditions.gliomaRadiusMm).toBe(15);
  });

  it('refuses a wrong spec with every reason', () => {
    expect(batchProblems(spec(), schema)).toEqual([]);
    expect(
      batchProblems(
        spec({ count: 51, ageMin: 85, ageMax: 95, femaleShare: 1.5, pathology: 'flu', seed: -1 }),
        schema,
      ),
    ).toEqual([
      'Subjects must be a whole number from 1 to 50',
      'Oldest age must be between 20 and 90 years',
      'Share of women must be between 0 and 100 %',
      'Unknown pathology "flu"',
      'Seed must be a whole number from 0 to 4294967295',
    ]);
    expect(batchProblems(spec({ ageMin: 60, ageMax: 40 }), schema)).toEqual([
      'Youngest age must not be above the oldest',
    ]);
    expect(batchProblems(spec({ count: NaN }), schema)).toEqual([
      'Subjects must be a whole number from 1 to 50',
    ]);
  });
});

function entry(i: number, over: Partial<BatchEntry> = {}): BatchEntry {
  return {
    participantId: `sub-0000${i + 1}`,
    index: i,
    seed: 100 + i,
    conditions: { age: 40 + i, sex: i % 2 ? 'male' : 'female', pathology: 'none', contrast: 'T1w' },
    contrast: 'T1w',
    image: new Uint8Array([1, 2, 3]),
    labels: new Uint8Array([4, 5]),
    sidecar: { modelId: 'm', modelVersion: '1.0.0', softwareVersion: '0.2.0' },
    icvMl: 1234.56789,
    lesionMl: 0,
    ...over,
  };
}

describe('the BIDS zip', () => {
  it('participants.tsv: the columns of the Python writer, n/a for missing values', () => {
    expect(participantsTsv([entry(0), entry(1, { icvMl: null, lesionMl: 2.5 })])).toBe(
      'participant_id\tage\tsex\tpathology\tseed\ticv_ml\tlesion_ml\n' +
        'sub-00001\t40\tfemale\tnone\t100\t1234.57\t0\n' +
        'sub-00002\t41\tmale\tnone\t101\tn/a\t2.5\n',
    );
  });

  it('names the post-contrast T1 as BIDS does: ce-gadolinium, suffix T1w', () => {
    expect(bidsImageStem('sub-00001', 'T1c')).toBe('sub-00001_ce-gadolinium_T1w');
    expect(bidsImageStem('sub-00001', 'FLAIR')).toBe('sub-00001_FLAIR');
    const zip = buildBidsZip([entry(0, { contrast: 'T1c' })], {
      name: 'ds',
      model: { id: 'm', version: '1.0.0' },
      softwareVersion: '0.2.0',
      labels: smallLabels,
      spec: spec({ count: 1 }),
    });
    const names = Object.keys(unzipSync(zip));
    expect(names).toContain('ds/sub-00001/anat/sub-00001_ce-gadolinium_T1w.nii.gz');
    expect(names).toContain('ds/sub-00001/anat/sub-00001_ce-gadolinium_T1w.json');
  });

  it('holds the derivative description, participants, label table and per-subject files', () => {
    const zip = buildBidsZip([entry(0), entry(1)], {
      name: 'ds',
      model: { id: 'm', version: '1.0.0' },
      softwareVersion: '0.2.0',
      labels: smallLabels,
      spec: spec({ count: 2 }),
    });
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual([
      'ds/README',
      'ds/dataset_description.json',
      'ds/dseg.tsv',
      'ds/participants.json',
      'ds/participants.tsv',
      'ds/sub-00001/anat/sub-00001_T1w.json',
      'ds/sub-00001/anat/sub-00001_T1w.nii.gz',
      'ds/sub-00001/anat/sub-00001_dseg.json',
      'ds/sub-00001/anat/sub-00001_dseg.nii.gz',
      'ds/sub-00002/anat/sub-00002_T1w.json',
      'ds/sub-00002/anat/sub-00002_T1w.nii.gz',
      'ds/sub-00002/anat/sub-00002_dseg.json',
      'ds/sub-00002/anat/sub-00002_dseg.nii.gz',
    ]);
    const desc = JSON.parse(strFromU8(files['ds/dataset_description.json']));
    expect(desc).toMatchObject({
      DatasetType: 'derivative',
      BIDSVersion: '1.9.0',
      GeneratedBy: [{ Name: 'brainsynth', Version: '0.2.0' }],
    });
    expect(strFromU8(files['ds/dseg.tsv'])).toBe(
      'index\tname\n0\tUnknown\n2\tLeft-Cerebral-White-Matter\n4\tLeft-Lateral-Ventricle\n701\tMS-lesion\n',
    );
    expect(files['ds/sub-00002/anat/sub-00002_T1w.nii.gz']).toEqual(new Uint8Array([1, 2, 3]));
    const side = JSON.parse(strFromU8(files['ds/sub-00002/anat/sub-00002_dseg.json']));
    expect(side).toMatchObject({ Seed: 101, SubjectIndex: 1, ModelId: 'm' });
    expect(Object.keys(JSON.parse(strFromU8(files['ds/participants.json'])))).toEqual(
      strFromU8(files['ds/participants.tsv']).split('\n')[0].split('\t'),
    );
  });
});

/** Fake deps: each sample waits until the test resolves it. */
function fakeDeps() {
  const pending: { values: ConditionValues; seed: number; resolve: () => void }[] = [];
  const saved: { blob: Blob; name: string }[] = [];
  const lanes: string[] = [];
  const vol = (values: ConditionValues, seed: number): SampledVolume =>
    ({
      image: new Float32Array(8),
      labels: Int16Array.from([0, 2, 2, 701, 701, 0, 0, 0]),
      dims: [2, 2, 2],
      spacing: [2, 2, 2],
      affine: [
        [2, 0, 0, 0],
        [0, 2, 0, 0],
        [0, 0, 2, 0],
        [0, 0, 0, 1],
      ],
      metadata: { conditions: values, seed, regionalVolumesMl: { icv: 1200 } },
    }) as unknown as SampledVolume;
  const deps: BatchDeps = {
    sampleIn: (lane, values, seed) => {
      lanes.push(lane);
      return new Promise((res) =>
        pending.push({ values, seed, resolve: () => res(vol(values, seed)) }),
      );
    },
    toNifti: (_v, kind) => new Uint8Array([kind === 'image' ? 1 : 2]),
    sidecar: (v) => ({ seed: v.metadata.seed, softwareVersion: '0.2.0' }),
    model: () => ({
      schema,
      defaults,
      id: 'm',
      version: '1.0.0',
      labels: smallLabels,
      pathologyRange: [700, 799],
    }),
    save: (blob, name) => saved.push({ blob, name }),
  };
  const next = async () => {
    while (pending.length === 0) await new Promise((r) => setTimeout(r, 0));
    pending.shift()!.resolve();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { deps, pending, saved, lanes, next };
}

describe('BatchExport', () => {
  it('samples one subject after another in the batch lane, counts progress, saves the zip', async () => {
    const { deps, saved, lanes, next } = fakeDeps();
    const b = new BatchExport(deps);
    const run = b.start(spec({ count: 3, seed: 3 }));
    expect(b.snapshot()).toMatchObject({ phase: 'running', total: 3, done: 0 });
    await next();
    expect(b.snapshot().done).toBe(1);
    await next();
    await next();
    await run;
    expect(lanes).toEqual([BATCH_LANE, BATCH_LANE, BATCH_LANE]);
    expect(b.snapshot()).toMatchObject({
      phase: 'done',
      done: 3,
      fileName: 'brainsynth-batch-3.zip',
    });
    expect(saved.map((s) => s.name)).toEqual(['brainsynth-batch-3.zip']);
    const files = unzipSync(new Uint8Array(await saved[0].blob.arrayBuffer()));
    const tsv = strFromU8(files['brainsynth-batch-3/participants.tsv']).trim().split('\n');
    expect(tsv).toHaveLength(4);
    // lesion_ml measured from the labels: 2 voxels of 8 mL in 700-799
    expect(tsv[1].split('\t').slice(-2)).toEqual(['1200', '0.016']);
  });

  it('Cancel stops midway: nothing more is sampled or saved', async () => {
    const { deps, saved, pending, next } = fakeDeps();
    const b = new BatchExport(deps);
    const run = b.start(spec({ count: 5 }));
    await next();
    await new Promise((r) => setTimeout(r, 0));
    expect(pending).toHaveLength(1); // the second subject is being sampled
    b.cancel();
    expect(b.snapshot()).toMatchObject({ phase: 'cancelled', done: 1 });
    pending.shift()!.resolve();
    await run;
    expect(pending).toHaveLength(0);
    expect(saved).toEqual([]);
    expect(b.snapshot()).toMatchObject({ phase: 'cancelled', done: 1 });
  });

  it('a wrong spec is refused with its reasons and nothing is sampled', async () => {
    const { deps, lanes } = fakeDeps();
    const b = new BatchExport(deps);
    await b.start(spec({ count: 0 }));
    expect(b.snapshot()).toMatchObject({
      phase: 'idle',
      problems: ['Subjects must be a whole number from 1 to 50'],
    });
    expect(lanes).toEqual([]);
  });
});

/** The schema-based BIDS validator (PyPI bids-validator-deno), as brainsynth/tests finds it. */
function validatorCommand(): string[] | null {
  if (process.env.BIDS_VALIDATOR) return process.env.BIDS_VALIDATOR.split(' ');
  const venv = join(root, '.venv/bin/bids-validator-deno');
  if (existsSync(venv)) return [venv];
  const which = spawnSync('which', ['bids-validator-deno'], { encoding: 'utf8' });
  return which.status === 0 ? [which.stdout.trim()] : null;
}

const modelDir = join(root, 'public/models/brainsynth-shape-v1');

describe('a 2-subject batch of the real engine', () => {
  it('passes the BIDS validator with 0 errors', async (ctx) => {
    const cmd = validatorCommand();
    if (!cmd)
      ctx.skip(
        'bids-validator-deno is not installed (pip install -e ".[dev]" puts it in .venv; or set BIDS_VALIDATOR)',
      );
    if (!existsSync(join(modelDir, 'manifest.json')))
      ctx.skip(`the model folder ${modelDir} is missing`);
    const [{ loadModel }, { sample }, { toNifti }, { sidecar }, { useCpuBackend }] =
      await Promise.all([
        import('../engine/model/loadModel'),
        import('../engine/sample'),
        import('../engine/nifti'),
        import('../engine/sidecar'),
        import('../engine/testing/setupCpu'),
      ]);
    await useCpuBackend();
    const fsFetch = async (url: string) =>
      existsSync(url)
        ? new Response(readFileSync(url), { status: 200 })
        : new Response('missing', { status: 404 });
    const model = await loadModel(`${modelDir}/`, fsFetch);
    const m = model.manifest;
    const deps: BatchDeps = {
      sampleIn: async (_lane, values, seed) => sample(model, values, seed),
      toNifti,
      sidecar: (v) => ({ ...sidecar(v) }),
      model: () => ({
        schema: readConditionsSchema(m.conditionsSchema),
        defaults: {},
        id: m.id,
        version: m.version,
        labels: m.labels,
        pathologyRange: m.labelRanges.pathology,
      }),
      save: () => undefined,
    };
    const saved: Blob[] = [];
    deps.save = (blob) => saved.push(blob);
    const b = new BatchExport(deps);
    await b.start(spec({ count: 2, pathology: 'glioma', seed: 11 }));
    expect(b.snapshot().error).toBeNull();
    expect(b.snapshot().phase).toBe('done');
    const files = unzipSync(new Uint8Array(await saved[0].arrayBuffer()));
    const dir = mkdtempSync(join(tmpdir(), 'bs-bids-'));
    try {
      for (const [path, bytes] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), bytes);
      }
      const ds = join(dir, 'brainsynth-batch-11');
      const out = spawnSync(cmd![0], [...cmd!.slice(1), ds, '--json'], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      const report = JSON.parse(out.stdout) as {
        issues: { issues: { severity: string; code: string; location?: string }[] };
        summary: { subjects: string[]; totalFiles: number };
      };
      // it read our dataset: both subjects, every file of the zip
      expect(report.summary.subjects.sort()).toEqual(['00001', '00002']);
      expect(report.summary.totalFiles).toBe(Object.keys(files).length);
      const errors = report.issues.issues.filter((i) => i.severity === 'error');
      expect(errors, JSON.stringify(errors.slice(0, 5))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
