import { buildWeb } from '../scripts/build-web.js';

/** The browser front end, built once before any test file runs (nothing to do when dist/web is current). */
export default async function setup(): Promise<void> {
  const result = await buildWeb();
  if (result.built) console.log(`built dist/web for the tests in ${Math.round(result.ms)} ms`);
}
