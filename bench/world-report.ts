/**
 * Figures that show the synthetic taste world is usable ground truth, for each preset:
 *   npx tsx bench/world-report.ts [--seed S] [--presets tiny,small,demo,flickr]
 * Record the output in src/world/README.md.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { generateWorld, isPresetName, PRESETS, worldOptions } from '../src/world/index.js';
import {
  catalogFeatures,
  decodeAccuracy,
  heldOutAuc,
  ratingStatistics,
  topItemOverlap,
} from '../src/world/measure.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    presets: { type: 'string', default: Object.keys(PRESETS).join(',') },
  },
});
const seed = Number(values.seed);
const fixed = (x: number, digits = 3) => x.toFixed(digits);

console.log(
  `world report: seed ${seed}, Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
);
for (const preset of values.presets.split(',')) {
  if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`);
  const options = worldOptions(preset, seed);
  const started = performance.now();
  const generated = generateWorld(options);
  const seconds = (performance.now() - started) / 1000;
  const features = catalogFeatures(generated);
  const decode = decodeAccuracy(generated, 5000);
  const auc = heldOutAuc(generated, features);
  const overlap = topItemOverlap(generated, 50, features);
  const stats = ratingStatistics(generated);
  console.log(
    [
      `\n## ${preset}: ${options.users} users, ${options.items} items, D ${options.dim}`,
      `generation (in memory, no files): ${fixed(seconds, 2)} s`,
      `ratings: ${stats.ratings} (${fixed(stats.meanRatersPerItem, 2)} raters per item), liked (score >= 4): ${fixed(100 * stats.likeRate, 1)}%`,
      `ratings per user: min ${stats.perUser.min}, median ${stats.perUser.median}, max ${stats.perUser.max}, Gini ${fixed(stats.perUser.gini)}; ` +
        `fewest likes of a user ${stats.minLikedPerUser}; users with >= 100 likes ${stats.usersWith100Likes}/${options.users}`,
      `decode accuracy (${decode.items} catalog items): all attributes ${fixed(100 * decode.all, 2)}%; ` +
        Object.entries(decode.perAttribute)
          .map(([name, share]) => `${name} ${fixed(100 * share, 1)}%`)
          .join(', '),
      `held-out AUC (${auc.heldOut} ratings, 20% per user): per-user logistic on attribute posteriors ${fixed(auc.fitted)} ` +
        `(mean per user ${fixed(auc.meanPerUserFitted)}), oracle ${fixed(auc.oracle)}`,
      `users' top-50 items by oracle: mean pairwise Jaccard ${fixed(overlap)}`,
    ].join('\n'),
  );
}
