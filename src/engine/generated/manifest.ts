// Generated from brainsynth/schema/manifest.schema.json by src/engine/codegen/manifestTypes.ts
// (npm run gen:manifest). Do not edit: change the schema and regenerate.

/** Structure of a model folder's manifest.json. Cross-field checks (array shapes vs grids, per-label tables vs the label count) are done in code by the engine (src/engine/model/validateManifest.ts) and the Python loader. */
export type ManifestDocument = {
  format: 'brainsynth-model/1';
  id: string;
  version: string;
  kind: string;
  created?: string;
  softwareVersion?: string;
  conditionsSchema: {
    [name: string]: unknown;
  };
  grid: {
    shape: [number, number, number];
    spacing: [number, number, number];
    origin: [number, number, number];
    affine: number[][];
  };
  velocityGrid: {
    shape: [number, number, number];
    spacing: [number, number, number];
    origin: [number, number, number];
    affine: number[][];
  };
  labels: {
    index: number;
    value: number;
    name: string;
    rgb: [number, number, number];
    group: string;
  }[];
  /** Inclusive [first, last] label-value ranges. intracranial + pathology make up the ICV; pathology labels (lesions) are drawn by the pathology modules. */
  labelRanges: {
    intracranial: [number, number];
    extraCerebral?: [number, number];
    pathology: [number, number];
  };
  arrays: {
    templateLabels: {
      file: string;
      dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32';
      shape: number[];
      scale?: number | number[];
    };
    shapeComponents: {
      file: string;
      dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32';
      shape: number[];
      scale?: number | number[];
    };
    regionalBasis: {
      file: string;
      dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32';
      shape: number[];
      scale?: number | number[];
    };
    [name: string]:
      | {
          file: string;
          dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32';
          shape: number[];
          scale?: number | number[];
        }
      | undefined;
  };
  shapeModel: {
    components: number;
    sigma: number[];
    explainedVariance?: number[];
    /** Step 4b (optional, software >= 0.4.3; MODEL_FORMAT.md section 3): the individual's local displacement L, composed with step 4's displacement on the velocity grid, u <- L + T(u, y + L). Per component c (x, y, z): normals of stream s + 8 from c * Nv (x fastest), blurred on the velocity grid by the Gaussian of sigmaNodes, divided by the blurred noise's std, times the mask arrays.localFieldMask (velocity grid, mm per node after its scale). Drawn only for latents that come from the seed. Fitted by pipeline.local_field to the real between-subject Dice of the groups' structures. */
    localField?: {
      sigmaNodes: number;
      groups: {
        name: string;
        labels: number[];
        amplitudeMm: number;
      }[];
      /** Software >= 0.4.4 (older software rejects a model that has it): 'divergence-free' replaces L by L - grad(phi) with div(grad(phi)) = div(L) (central differences, zero outside the grid, solved with the type-I sine transform), so the field moves and bends the structures without changing their volumes. Default 'none'. */
      projection?: 'none' | 'divergence-free';
      fit?: {
        [name: string]: unknown;
      };
    };
  };
  regions: {
    name: string;
    labels: number[];
  }[];
  calibration: {
    ages: number[];
    gains: {
      female: number[][];
      male: number[][];
    };
    icvMl: {
      female: number;
      male: number;
    };
    icvLogSd: number;
    /** What icvLogSd was fitted on (brainsynth.pipeline.size_spread; models >= 1.9.0): the normative brain-volume log-sd and the model's own without the head-size term */
    icvLogSdFit?: {
      source: string;
      targetLogSd: {
        [name: string]: number | undefined;
      };
      targetAges?: number[];
      shapeLogSd: {
        [name: string]: number | undefined;
      };
      shapeAges?: number[];
      individuals: number;
      previous?: number;
    };
    templateIcvMl: number;
    gridCentreMm: [number, number, number];
  };
  pathology: {
    alzheimers?: {
      gainsAtSeverity1: number[];
    };
    ms?: {
      lesionVolumeLogMeanMl: number;
      lesionVolumeLogSdMl: number;
      elongation: number;
      maxLesions: number;
      /** Share of MS lesions drawn at juxtacortical and infratentorial sites (the rest: other cerebral white matter), measured on the real masks. */
      locationShares?: {
        juxtacortical: number;
        infratentorial: number;
      };
      /** Share of MS lesions drawn as T1 black holes (label 702). */
      blackHoleFraction?: number;
      /** Added to msLesionPrior when weighting lesion sites (so every location class has sites). */
      siteFloor?: number;
    };
    glioma?: {
      oedemaFactor: number;
      rimFraction?: number;
      necrosisFraction: number;
      massEffectDecayMm: number;
      /** relative amplitude of the seeded random margin R(d) = R (1 + a F(d)) / n */
      marginAmplitude?: number;
      /** number of spherical waves of F */
      marginWaves?: number;
      /** K of the margin waves cos(K d.w + phase) on the unit sphere */
      marginWavenumber?: number;
      /** relative amplitude of the necrotic core's own random radius */
      coreAmplitude?: number;
      coreWaves?: number;
      /** K of the core waves */
      coreWavenumber?: number;
      /** core centre offset from the tumour centre, fraction of R */
      coreOffsetFraction?: number;
      /** the core stays this far inside the margin (an enhancing rim everywhere) */
      minRimMm?: number;
      /** relative amplitude of the direction-dependent oedema reach */
      oedemaAmplitude?: number;
      /** midline shift S = midlineShiftPerMm * R^2 / 30 mm (R in mm) */
      midlineShiftPerMm?: number;
      /** sulcal CSF within this distance beyond the margin is effaced (becomes cortex) */
      effacementMm?: number;
      /** calibration of the tumour labels and T1c (pipeline/glioma_fit.py) */
      appearance?: {
        [name: string]: unknown;
      };
    };
    stroke?: {
      territoryCodes: {
        [name: string]: number | undefined;
      };
      exVacuoGain: number;
      /** Lattice spacing (template voxels) of the stroke's smooth random field. */
      fieldSpacingVoxels?: number;
      /** Weight of the random field in strokeLogFrequency units. */
      fieldAmplitude?: number;
      /** Width of the gliosis band (label 722) along surviving tissue, mm. */
      rimMm?: number;
    };
  };
  appearance: {
    contrasts: {
      T1w: {
        mean: number[];
        sd: number[];
      };
      T2w: {
        mean: number[];
        sd: number[];
      };
      FLAIR: {
        mean: number[];
        sd: number[];
      };
      /** post-contrast T1 (software >= 0.4): pre-contrast T1-weighted ratio times (1 + per-label contrast-agent uptake); see pipeline/glioma_fit.py */
      T1c?: {
        mean: number[];
        sd: number[];
      };
    };
    ageSlopePerDecade?: {
      [name: string]:
        | {
            mean: number[];
          }
        | undefined;
    };
    partialVolumeSigmaVoxels: number;
    textureSigmaVoxels: number;
    biasFieldStrength: number;
    /** The bias field's systematic part (model >= 1.10.0): D = sum_k coefficients_k m_k(u), the log-field's coefficients on the bias polynomial's monomials m = (1, x, y, z, x^2, y^2, z^2, xy, xz, yz) of grid coordinates u normalised to [-1, 1]. The field is exp(biasFieldStrength * P_seed + D), computed as one polynomial with coefficients normals/3 + coefficients/biasFieldStrength (ignored when biasFieldStrength is 0). Fitted by pipeline.bias_fit in brain-normalised coordinates v = (u - centre) / semiAxes (brainCoefficients, on the same monomials of v; centre and semi-axes the template brain's centroid and half-extents in u) and re-expressed in u. With `radial` (model >= 1.12.0, software >= 0.4.2) D also has a radial part R(r), r = |(u - centre) / semiAxes| (the brain-normalised radius; needs centre and semiAxes): linear interpolation of `radial.values` at knots r = k * radial.step (k = 0, 1, ...), clamped to the first and last value outside them; exp(biasFieldStrength * P_seed + D) then takes R / biasFieldStrength added to P (float32) after the polynomial. Fitted by pipeline.bias_fit to the real scans' radial log-intensity profile (the 3 T central brightening, which falls about linearly with the radius, not as a bowl). */
    biasMean?: {
      coefficients: number[];
      centre?: [number, number, number];
      semiAxes?: [number, number, number];
      source?: string;
      brainCoefficients?: number[];
      radial?: {
        /** knot spacing in brain-normalised radius */
        step: number;
        /** R at r = 0, step, 2 step, ... (log-field units) */
        values: number[];
      };
    };
    /** The subject's texture amplitude (model >= 1.11.0): every label's SD (every contrast, before the depth rows of step 0) is multiplied by g = exp(perDecade * (age - 45) / 10 + logSd * e + offset), e = the first of the unit normals of seed stream s + 7 (float64, summed in that order; the product rounded to float32 as sd * float32(g)). The real scans' fine-scale residual (image minus its Gaussian blur, sigma 1 voxel, over the WM median) grows with age and varies between scans beyond what anatomy and seed give the renderer; offset makes g average 1 over the real scans the label SDs were measured on. Fitted through the renderer by pipeline.texture_gain_fit. Absent: g = 1. */
    textureGain?: {
      /** log gain per decade of age from 45 */
      perDecade: number;
      /** SD of the log gain between subjects of one age */
      logSd: number;
      /** constant of the log gain: minus the log of the mean age term over the real scans, minus logSd^2 / 2 */
      offset: number;
      source?: string;
    };
    snr: number;
    /** MODEL_FORMAT.md §5 step 1: texture = white·n + smooth·(G_sigma ∗ n)/std (n: unit normals of stream s+1), fitted to the real WM texture; absent: (G_sigma ∗ n)/std with sigma = textureSigmaVoxels. */
    texture?: {
      white: number;
      smooth: number;
      sigmaVoxels: number;
      /** 2: the smooth part is drawn on the half-resolution grid (normals of stream s+5, sigma/2) and linearly interpolated back (MODEL_FORMAT.md §5) */
      coarseFactor?: 1 | 2;
    };
    /** MODEL_FORMAT.md §5 step 0: depth layers. Voxels of a group of labels are numbered by 6-neighbour distance from the `from` labels (layer 1 touches them, the last layer takes the rest); each layer renders as an appended row whose mean is the label's mixed toward its partner (`toward`, aligned with `labels`): mean + weight·(mean_partner − mean), SD and WM flag the label's own. Fitted on the real T1s by pipeline.render_fit. */
    depthLayers?: {
      labels: number[];
      from: number[];
      layers: {
        toward: number[];
        weight: number;
        /** the row's SD over its label's (default 1) */
        sdScale?: number;
        /** SD of the voxel-to-voxel partial-volume fraction toward the row's partner (MODEL_FORMAT §5 step 1; default 0) */
        mixSd?: number;
      }[];
      /** group voxels with a 6-neighbour among these labels (e.g. the cortex's pial side) take these rows (one per layer, as many as `layers`) instead */
      surface?: {
        labels: number[];
        layers: {
          toward: number[];
          weight: number;
          /** the row's SD over its label's (default 1) */
          sdScale?: number;
          /** SD of the voxel-to-voxel partial-volume fraction toward the row's partner (MODEL_FORMAT §5 step 1; default 0) */
          mixSd?: number;
        }[];
      };
    }[];
  };
  /** Step 7b (MODEL_FORMAT.md §3): individual sulci as the zero set of a random-wave field on the sphere of directions around calibration.gridCentreMm; needs arrays.corticalDepth. */
  folding?: {
    /** number of random plane waves */
    waves: number;
    /** wavelength of the waves at radiusMm (two sulci per wavelength) */
    wavelengthMm: number;
    /** radius at which the wavelength holds */
    radiusMm: number;
    /** cube-map cells per face edge */
    tableSize: number;
    /** half width of a sulcus's CSF core */
    sulcalHalfWidthMm: number;
    /** grey matter lining the sulcal fundus into white matter */
    liningMm: number;
    /** depth below the hull to which the CSF core cuts into white matter */
    sulcalDepthMm: number;
    source?: string;
    /** template cortex deeper than this below the hull, beyond the lining and 2 mm from CSF/outside, becomes white matter (the gyral core); absent: no thinning */
    crownMm?: number;
  };
  /** Legacy form of step 7c (software 0.4.0, model 1.3.0), read as `sizing` with one structure: the inferior lateral ventricles (labels 5, 44) against that side's cerebral WM (2, 41), with this factor table and adFactor. Ignored when `sizing` is present; pipeline.sizing replaces it. */
  horns?: {
    /** ages (years, increasing) of the factor table's rows */
    ages: number[];
    /** per sex, one factor per age: normative horn volume relative to 45 over the model's own (linear in age between rows, clamped) */
    factor: {
      female: number[];
      male: number[];
    };
    /** A: the horns are multiplied by A^adSeverity under Alzheimer's disease */
    adFactor: number;
    source?: string;
    /** the model's horn voxel counts the factors came from (provenance) */
    sampledVoxels?: {
      [name: string]: unknown;
    };
  };
  /** Step 7c (MODEL_FORMAT.md §3): label-level sizing. For each structure in order, then each of its labels in order, the label's voxel count n is taken to floor(n f + 1/2), f = the structure's factor (sex, age) times adFactor^adSeverity under Alzheimer's disease times exp(individualLogSd(sex, age) z) with the structure's size latent z (`latent`: 0, the normal after z_icv, unless given), by moving its interface with its partner labels one 6-neighbour layer at a time (grow: partner voxels next to it become it; shrink: its voxels next to a partner become that partner). */
  sizing?: {
    /** ages (years, increasing) of every factor table's rows */
    ages: number[];
    /** in the order of step 7c */
    structures: {
      /** the region of `regions` (and of the normative table) the factor follows; for a structure outside the brain (the head's layers: 'skull', 'scalp') a name of its own */
      region: string;
      /** in order: each label value and the label values it exchanges voxels with */
      labels: {
        /** the label value that is sized */
        value: number;
        /** what it grows into and shrinks back to; a shrinking voxel takes the label of its first partner neighbour in the order -x, +x, -y, +y, -z, +z */
        partners: number[];
      }[];
      /** per sex, one factor per age of `ages`: the normative volume relative to 45 over the model's own (linear in age between rows, clamped) */
      factor: {
        female: number[];
        male: number[];
      };
      /** A: the factor is multiplied by A^adSeverity under Alzheimer's disease; absent: 1 */
      adFactor?: number;
      /** optional, per sex, one log-sd per age of `ages`: the individual's size factor exp(s z) (z: the structure's size latent, see `latent`), the between-person spread the model's own individuals lack */
      individualLogSd?: {
        female: number[];
        male: number[];
      };
      /** which of the individual's size latents `individualLogSd` multiplies (absent: 0). Size latent j is normals(seed, K + 2 + j)[K + 1 + j] of the seed's stream (after z and z_icv): 0 is the ventricles' size (one latent for every ventricle), 1 the skull's thickness, 2 the scalp's; structures that share a latent grow or shrink together */
      latent?: number;
      /** which voxels of a partial last layer move: 'flat' (absent: the default) the first (grow) or last (shrink) in flat order, x fastest; 'smooth' those with the most 6-neighbours labelled the structure (grow; shrink: labelled a partner) first, ties by the lowest priority, a fixed hash of the voxel's flat index (MODEL_FORMAT.md §3, 7c) — for a structure whose interface spans the brain (cerebral WM, cortex): pockets fill and protrusions go first, so a part-layer smooths the interface, spread over it, not a band of the lowest slices. Either way the same voxels come first from one year to the next */
      partialLayer?: 'flat' | 'smooth';
      /** what the factors came from (provenance: the model's own ratio to 45 per knot, the spread, Alzheimer's change before sizing) */
      fit?: {
        [name: string]: unknown;
      };
    }[];
    source?: string;
    /** provenance of the head's layer structures (`skull`, `scalp`): `python -m brainsynth.pipeline.head_layers` — the real and synthetic layer edges on the vault profile, the Newton rounds, the fitted factors and individual log-sds */
    headLayersFit?: {
      [name: string]: unknown;
    };
  };
};
