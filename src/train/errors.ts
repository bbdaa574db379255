// Errors the training loop raises; exitCode is read by the CLI.
export class NonFiniteLossError extends Error {
  readonly exitCode = 3;
  constructor(readonly epoch: number, readonly batch: number, what: string) {
    super(
      `training stopped: ${what} is not finite at epoch ${epoch + 1}, batch ${batch + 1}. ` +
        'The last good checkpoint was kept; lower the learning rate or enable train.grad_clip.',
    );
    this.name = 'NonFiniteLossError';
  }
}
