// CLI behind scripts/fetch-model.sh: prints one model directory per line on stdout, progress
// on stderr, and exits non-zero with the reason when a model cannot be fetched and verified.
import { fetchModel } from '../fetch-model';
import { MODEL_REGISTRY } from '../model-registry';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    `usage: fetch-model.sh [model-id...]\n  default: ${MODEL_REGISTRY.testModels.join(' ')}\n  known: ${MODEL_REGISTRY.models.map((m) => m.id).join(' ')}\n  --all: every known model\n`,
  );
} else {
  const ids = args.includes('--all') ? MODEL_REGISTRY.models.map((m) => m.id) : args.length > 0 ? args : MODEL_REGISTRY.testModels;
  try {
    for (const id of ids) process.stdout.write(`${await fetchModel(id)}\n`);
  } catch (err) {
    process.stderr.write(`fetch-model: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
