// Baseline for bench/synth.ts: one empty stack, same toolchain (tsx + aws-cdk-lib + CDK CLI).
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty');
app.synth();
