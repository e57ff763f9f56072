/** The scheduler's time: the one Clock port of @dcp-emu/protocol (virtual in the running service). */
export { type Clock, systemClock, VirtualClock } from '@dcp-emu/protocol/node';
