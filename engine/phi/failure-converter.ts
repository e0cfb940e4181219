// Failure messages and stack traces can quote data: they travel encoded (through the payload
// codec), and Temporal stores only "Encoded failure". Loaded by path by the worker, the client and
// the workflow bundle (the workflow sandbox cannot receive an instance).
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
