/** Client operations for the in-memory node tests. */
import { Clock, makeClock } from '../../../../lib/core/clock';
import { Op } from '../../../../lib/kv/core/ops';

export const put = (key: string, value: string, context: Clock = makeClock()): Op => ({ kind: 'put', key, value, context });
export const get = (key: string, context: Clock = makeClock()): Op => ({ kind: 'get', key, context });
