/** DCC amounts (exact bigint base units) live in `@dcp-emu/protocol`: the scheduler speaks them too. */
export {
  type AmountSign,
  checkUnits,
  DCC_DECIMALS,
  dcc,
  dccAmountSchema,
  dccJson,
  formatDcc,
  MAX_UNITS,
  type ParseAmountOptions,
  parseDcc,
  UNITS_PER_DCC,
} from '@dcp-emu/protocol';
