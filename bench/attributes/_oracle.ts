import { readFileSync } from 'node:fs';
import { normalizeText } from '@affinity/contracts';
import { AttributeExtractor, learnVocabulary, loadCategorySchemas, parseExtractGptJsonl, stratifiedFolds } from '@affinity/attributes';
import { analyseText } from '../../packages/attributes/src/internal/features';
import { SchemaIndex } from '../../packages/attributes/src/internal/schema-index';
import { goldByAttribute } from '../../packages/attributes/src/evaluation';
const examples = parseExtractGptJsonl(readFileSync('data/oa-mine/train.jsonl', 'utf8'));
const schemas = loadCategorySchemas();
const index = new SchemaIndex(schemas);
const fold = stratifiedFolds(examples.map((e) => e.category), 5, 7);
const c = { goldTotal: 0, top1: 0, inCands: 0, inCands05: 0, chosenRight: 0 };
for (let f = 0; f < 5; f++) {
  const train = examples.filter((_, i) => fold[i] !== f);
  const vocabulary = learnVocabulary(train.map((e) => ({ title: e.title, category: e.category, attributes: e.gold })), { schemas });
  const ex = new AttributeExtractor({ schemas, vocabulary, minConfidence: 0 }) as any;
  examples.forEach((e, i) => {
    if (fold[i] !== f) return;
    const { key, schema } = index.resolve(e.category);
    const vocab = vocabulary.categories.get(key);
    const title = normalizeText(e.title);
    const a = analyseText(title, vocab, vocabulary.global);
    const cands = ex.titleCandidates(a, key, schema, vocab) as { attr: string; raw: string; confidence: number }[];
    const out = ex.extract({ title: e.title, category: e.category }) as { name: string; raw: string; confidence: number }[];
    const gold = goldByAttribute(index, e);
    for (const [attr, g] of gold) {
      c.goldTotal++;
      const mine = cands.filter((x) => x.attr === attr).sort((x, y) => y.confidence - x.confidence);
      if (mine[0]?.raw === g) c.top1++;
      if (mine.some((x) => x.raw === g)) c.inCands++;
      if (mine.some((x) => x.raw === g && x.confidence >= 0.2)) c.inCands05++;
      if (out.some((o) => o.name === attr && o.raw === g && o.confidence >= 0.5)) c.chosenRight++;
    }
  });
}
console.log(c);
