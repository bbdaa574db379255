// The dataset registry: one module per dataset; names the config and `evnn prepare` accept.
import { describe, expect, it } from 'vitest';
import { datasetNames, findDataset, getDataset } from '../../src/data/registry.js';
import { dataSchema } from '../../src/config/data.js';
import { prepareDatasetByName } from '../../src/pipeline/prepare.js';

describe('dataset registry', () => {
  it('knows MNIST: its Arrow schema, views and metadata', () => {
    expect(datasetNames()).toEqual(['mnist', 'ptb', 'wikitext2', 'gscv2', 'fmnist', 'nmnist', 'shd', 'dvs128']);
    const mnist = getDataset('mnist');
    expect(mnist.arrowSchema().fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(['label: Int8', 'pixels: FixedSizeList[784]<Uint8>']);
    expect(mnist.metadata(dataSchema.parse({ dataset: 'mnist', view: 'smnist' }))).toMatchObject({ task: 'classification', numClasses: 10 });
    // The views the module serves are the ones a config may name.
    expect([...mnist.views]).toEqual(dataSchema.shape.view.unwrap().options);
    expect(mnist.feature).toBeUndefined();
  });

  it('an unknown dataset is an error listing the known ones', async () => {
    expect(findDataset('cifar10')).toBeUndefined();
    expect(() => getDataset('cifar10')).toThrow('unknown dataset "cifar10" (known datasets: mnist, ptb, wikitext2, gscv2, fmnist, nmnist, shd, dvs128)');
    await expect(prepareDatasetByName('cifar10', { dataDir: '/nonexistent', resultsDir: '/nonexistent', force: false, quiet: true })).rejects.toThrow(
      'unknown dataset "cifar10" (known datasets: mnist, ptb, wikitext2, gscv2, fmnist, nmnist, shd, dvs128)',
    );
  });

  it('the config accepts the registered names only', () => {
    const r = dataSchema.safeParse({ dataset: 'cifar10', view: 'smnist' });
    expect(r.success).toBe(false);
    expect(dataSchema.shape.dataset.options).toEqual(datasetNames());
  });
});
