/**
 * Explain: the main view's measured regional volumes against the normative curve for the
 * brain's sex, from the model's own files (normative_table.csv and manifest.json's
 * `calibration.icvLogSd` and `metrics.conditioning`; see normative.ts for the units and bands).
 */
import type { SampledVolume } from '../../engine/types';
import type { AppController } from '../controller';
import { createExplainStore, type ExplainStore } from '../stores/explainStore';
import {
  NormativeModel,
  parseNormativeTable,
  unitFactors,
  type ConditioningRow,
  type Sex,
} from './normative';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface RegionRow {
  region: string;
  ml: number;
  median: number;
  centile: number;
}

/** The current brain's regions placed on the normative model (regions it has no data for are left out). */
export function placeRegions(model: NormativeModel, vol: SampledVolume): RegionRow[] {
  const c = vol.metadata.conditions as unknown as Record<string, unknown>;
  const sex = c.sex as Sex;
  const age = Number(c.age);
  const measured = vol.metadata.regionalVolumesMl;
  return model.regions(sex).flatMap((region) => {
    const ml = measured[region];
    if (ml === undefined) return [];
    const median = model.median(sex, region, age);
    return [{ region, ml, median, centile: model.centile(sex, region, age, ml) }];
  });
}

function conditioningRows(manifest: unknown): ConditioningRow[] {
  const rows = (manifest as { metrics?: { conditioning?: { rows?: unknown } } }).metrics
    ?.conditioning?.rows;
  if (!Array.isArray(rows)) throw new Error('the manifest has no metrics.conditioning rows');
  return rows as ConditioningRow[];
}

export class ExplainController {
  readonly store: ExplainStore = createExplainStore();

  constructor(
    private readonly app: AppController,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  /** Load the normative model once (later calls return at once). */
  async load(): Promise<void> {
    const st = this.store.getState().status;
    if (st === 'loading' || st === 'ready') return;
    const base = this.app.modelUrl;
    if (!base) return;
    this.store.setState({ status: 'loading', error: null });
    const url = (name: string) => `${base.replace(/\/?$/, '/')}${name}`;
    try {
      const get = async (name: string) => {
        const res = await this.fetchFn(url(name));
        if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
        return res;
      };
      const [csv, manifest] = await Promise.all([
        get('normative_table.csv').then((r) => r.text()),
        get('manifest.json').then((r) => r.json() as Promise<unknown>),
      ]);
      const cal = (manifest as { calibration?: { icvLogSd?: unknown; tiedRegions?: unknown } })
        .calibration;
      const logSd = cal?.icvLogSd;
      if (typeof logSd !== 'number') throw new Error('the manifest has no calibration.icvLogSd');
      const tied = cal?.tiedRegions;
      const model = new NormativeModel(
        parseNormativeTable(csv),
        unitFactors(conditioningRows(manifest)),
        logSd,
        tied && typeof tied === 'object' ? Object.keys(tied) : [],
      );
      this.store.setState({ status: 'ready', model });
    } catch (err) {
      this.store.setState({
        status: 'error',
        error: `The normative table could not be read: ${message(err)}`,
      });
    }
  }

  setRegion(region: string): void {
    this.store.setState({ region, hover: '' });
  }

  setHover(hover: string): void {
    if (hover !== this.store.getState().hover) this.store.setState({ hover });
  }

  snapshot() {
    const s = this.store.getState();
    const vol = this.app.main.engine.getState().volume;
    return {
      status: s.status,
      error: s.error,
      region: s.region,
      hover: s.hover,
      rows: s.model && vol ? placeRegions(s.model, vol) : [],
    };
  }
}
