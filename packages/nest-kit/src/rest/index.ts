export {
  codeOfStatus,
  httpStatusOf,
  invalidRequest,
  RestErrorFilter,
  type RestErrorBody,
  restError,
  restErrorOf,
} from './error.filter';
export {
  type AuthRequest,
  type Caller,
  isLoopbackHost,
  RestAuth,
  RestAuthModule,
  type RestAuthOptions,
} from './rest-auth';
