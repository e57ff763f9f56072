export {
  type BatchCapture,
  type BatchCaptureOutcome,
  type CaptureBatchResult,
  CaptureBatchUseCase,
  MAX_CAPTURE_BATCH,
} from './capture-batch.usecase';
export {
  type CaptureOptions,
  type CapturePayment,
  type CaptureResult,
  CaptureUseCase,
} from './capture.usecase';
export { type HoldRequest, type HoldResult, HoldUseCase } from './hold.usecase';
export { type IncreaseHoldResult, IncreaseHoldUseCase } from './increase-hold.usecase';
export { type ReleaseResult, ReleaseUseCase } from './release.usecase';
