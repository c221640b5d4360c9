import { ApiName, Door } from './door';
import { keyValueStore000 } from './keyValueStore000';
import { keyValueStore003 } from './keyValueStore003';

export function doorFor(api: ApiName): Door {
  return api === 'keyValue-store' ? keyValueStore000 : keyValueStore003;
}
