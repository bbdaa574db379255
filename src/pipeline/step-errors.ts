// A step asked for before a step it needs has finished: says which step to run.
export class StepOrderError extends Error {
  constructor(step: string, needs: string, needsDir: string, configFile: string | undefined, why: string) {
    const cfg = configFile ?? '<config>';
    super(`${step} ${why}, and ${needs} has not finished (${needsDir}); run \`evnn ${needs} ${cfg}\` first, or \`evnn run ${cfg}\` to run every step in order`);
    this.name = 'StepOrderError';
  }
}
