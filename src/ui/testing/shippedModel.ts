/**
 * The id of the model the repository ships (public/models/index.json's default), for tests
 * that check the shipped files. App code never names a model: it reads the catalogue.
 */
import catalogue from '../../../public/models/index.json';

export const SHIPPED_MODEL_ID: string = catalogue.default;
