/**
 * One node's HTTP server: the door's routes and the internal ones on the
 * same port. Errors a route throws are JSON; anything unexpected is a 500
 * with its stack in the log.
 */
import Koa from 'koa';
import { jsonErrors } from '../../http/common';
import { Logger } from '../../log';
import { Door } from '../doors/door';
import { KvNode } from '../node/node';
import { internalRoutes } from './internalRoutes';

export function kvApp(node: KvNode, door: Door, log: Logger): Koa {
  const app = new Koa();
  app.use(jsonErrors(log));
  app.use(internalRoutes(node).routes());
  app.use(door.routes(node).routes());
  return app;
}
