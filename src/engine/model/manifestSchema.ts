/**
 * JSON Schema of `manifest.json` (structure only; the cross-field checks — array shapes vs grids,
 * per-label tables vs the label count, … — live in validateManifest.ts because JSON Schema
 * cannot express them).
 */
const num = { type: 'number' } as const;
const posNum = { type: 'number', exclusiveMinimum: 0 } as const;
const numArray = { type: 'array', items: num } as const;
const vec3 = { type: 'array', items: num, minItems: 3, maxItems: 3 } as const;
const shape3 = {
  type: 'array',
  items: { type: 'integer', minimum: 2 },
  minItems: 3,
  maxItems: 3,
} as const;

const grid = {
  type: 'object',
  required: ['shape', 'spacing', 'origin', 'affine'],
  properties: {
    shape: shape3,
    spacing: { type: 'array', items: posNum, minItems: 3, maxItems: 3 },
    origin: vec3,
    affine: {
      type: 'array',
      minItems: 4,
      maxItems: 4,
      items: { type: 'array', items: num, minItems: 4, maxItems: 4 },
    },
  },
} as const;

const arraySpec = {
  type: 'object',
  required: ['file', 'dtype', 'shape'],
  properties: {
    file: { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$' },
    dtype: { enum: ['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32'] },
    shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
    scale: { anyOf: [num, numArray] },
  },
} as const;

const contrast = {
  type: 'object',
  required: ['mean', 'sd'],
  properties: { mean: numArray, sd: numArray },
} as const;

export const manifestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: [
    'format',
    'id',
    'version',
    'kind',
    'conditionsSchema',
    'grid',
    'velocityGrid',
    'labels',
    'arrays',
    'shapeModel',
    'regions',
    'calibration',
    'pathology',
    'appearance',
  ],
  properties: {
    format: { const: 'brainsynth-model/1' },
    id: { type: 'string', minLength: 1 },
    version: { type: 'string' },
    kind: { type: 'string' },
    created: { type: 'string' },
    softwareVersion: { type: 'string' },
    conditionsSchema: { type: 'object', required: ['properties'] },
    grid,
    velocityGrid: grid,
    labels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['index', 'value', 'name', 'rgb', 'group'],
        properties: {
          index: { type: 'integer', minimum: 0 },
          value: { type: 'integer', minimum: 0, maximum: 32767 },
          name: { type: 'string' },
          rgb: {
            type: 'array',
            items: { type: 'integer', minimum: 0, maximum: 255 },
            minItems: 3,
            maxItems: 3,
          },
          group: { type: 'string' },
        },
      },
    },
    arrays: {
      type: 'object',
      required: ['templateLabels', 'shapeComponents', 'regionalBasis'],
      additionalProperties: arraySpec,
    },
    shapeModel: {
      type: 'object',
      required: ['components', 'sigma'],
      properties: {
        components: { type: 'integer', minimum: 0 },
        sigma: numArray,
        explainedVariance: numArray,
      },
    },
    regions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'labels'],
        properties: {
          name: { type: 'string', minLength: 1 },
          labels: { type: 'array', items: { type: 'integer' } },
        },
      },
    },
    calibration: {
      type: 'object',
      required: ['ages', 'gains', 'icvMl', 'icvLogSd', 'templateIcvMl', 'gridCentreMm'],
      properties: {
        ages: { type: 'array', items: num, minItems: 1 },
        gains: {
          type: 'object',
          required: ['female', 'male'],
          properties: {
            female: { type: 'array', items: numArray },
            male: { type: 'array', items: numArray },
          },
        },
        icvMl: {
          type: 'object',
          required: ['female', 'male'],
          properties: { female: posNum, male: posNum },
        },
        icvLogSd: { type: 'number', minimum: 0 },
        templateIcvMl: posNum,
        gridCentreMm: vec3,
      },
    },
    pathology: {
      type: 'object',
      properties: {
        alzheimers: {
          type: 'object',
          required: ['gainsAtSeverity1'],
          properties: { gainsAtSeverity1: numArray },
        },
        ms: {
          type: 'object',
          required: ['lesionVolumeLogMeanMl', 'lesionVolumeLogSdMl', 'elongation', 'maxLesions'],
          properties: {
            lesionVolumeLogMeanMl: num,
            lesionVolumeLogSdMl: { type: 'number', minimum: 0 },
            elongation: { type: 'number', minimum: 1 },
            maxLesions: { type: 'integer', minimum: 1 },
          },
        },
        glioma: {
          type: 'object',
          required: ['oedemaFactor', 'necrosisFraction', 'massEffectDecayMm'],
          properties: {
            oedemaFactor: { type: 'number', minimum: 1 },
            rimFraction: num,
            necrosisFraction: { type: 'number', minimum: 0, maximum: 1 },
            massEffectDecayMm: posNum,
          },
        },
        stroke: {
          type: 'object',
          required: ['territoryCodes', 'exVacuoGain'],
          properties: {
            territoryCodes: {
              type: 'object',
              additionalProperties: { type: 'integer', minimum: 1, maximum: 255 },
            },
            exVacuoGain: num,
          },
        },
      },
    },
    appearance: {
      type: 'object',
      required: [
        'contrasts',
        'partialVolumeSigmaVoxels',
        'textureSigmaVoxels',
        'biasFieldStrength',
        'snr',
      ],
      properties: {
        contrasts: {
          type: 'object',
          required: ['T1w', 'T2w', 'FLAIR'],
          properties: { T1w: contrast, T2w: contrast, FLAIR: contrast },
        },
        ageSlopePerDecade: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['mean'],
            properties: { mean: numArray },
          },
        },
        partialVolumeSigmaVoxels: { type: 'number', minimum: 0 },
        textureSigmaVoxels: { type: 'number', minimum: 0 },
        biasFieldStrength: { type: 'number', minimum: 0 },
        snr: posNum,
      },
    },
  },
} as const;
