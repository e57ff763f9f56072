export {
  type CaptureOptions,
  type CapturePayment,
  type CaptureResult,
  CaptureUseCase,
} from './capture.usecase';
export { type HoldRequest, type HoldResult, HoldUseCase } from './hold.usecase';
export { type IncreaseHoldResult, IncreaseHoldUseCase } from './increase-hold.usecase';
export { type ReleaseResult, ReleaseUseCase } from './release.usecase';
