/**
 * The bank answers every REST failure as `{error: {code, message}}` with a DCP code: the filter all
 * dcp-emu services share (packages/nest-kit, `RestErrorFilter`).
 */
export { httpStatusOf, RestErrorFilter as DcpErrorFilter } from '@dcp-emu/nest-kit';
