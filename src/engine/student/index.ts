export { loadStudent, studentFromFiles, decodeWeights, STUDENT_FORMAT } from './studentModel';
export type { Student, StudentModelJson, WeightEntry, DenseLayer } from './studentModel';
export {
  studentFeatures,
  studentCoefficients,
  studentCoefficientsJs,
  studentCorrection,
  studentDisplacement,
  disposeStudentTensors,
} from './forward';
