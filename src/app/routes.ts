/**
 * The route table: every HTTP resource lastday serves, in one list. Each
 * resource file declares its routes with the access each needs (one global
 * hook, src/http/access.ts, enforces it), and the access test walks the
 * routes the server ends up with (test/integration/routeAccess.test.ts).
 */
import { consolePlugin } from '../console/plugin.ts';
import { actionRoutes } from '../http/routes/actions.ts';
import { auditRoutes } from '../http/routes/audit.ts';
import { dashboardRoutes } from '../http/routes/dashboard.ts';
import { directoryRoutes } from '../http/routes/directory.ts';
import { evidenceRoutes } from '../http/routes/evidence.ts';
import { healthRoutes } from '../http/routes/health.ts';
import { hrEventRoutes } from '../http/routes/hrEvents.ts';
import { peopleRoutes } from '../http/routes/people.ts';
import { reinstatementRoutes } from '../http/routes/reinstatement.ts';
import type { RouteRegistrar } from '../http/server.ts';

export const ROUTES: readonly RouteRegistrar[] = [
  healthRoutes,
  hrEventRoutes,
  peopleRoutes,
  evidenceRoutes,
  auditRoutes,
  directoryRoutes,
  actionRoutes,
  // A reinstatement request is an action too.
  reinstatementRoutes,
  dashboardRoutes,
  // The web console (/console): pages over the same stores and guard.
  consolePlugin,
];
