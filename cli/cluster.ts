// `lookout cluster`: members, leader and term, assignment epoch, shards and checks per node, as
// one node answers lookout.cluster.status (the report: format.ts; --json: the reply as it came).

import type { Ctx } from './client-context';
import { replyError, request } from './client-nats';
import { formatCluster, type ClusterStatusReply } from './format';
import { CommandError } from './spec-files';

export async function cluster(ctx: Ctx): Promise<number> {
  const nc = await ctx.nc();
  const { raw, reply } = await request(nc, ctx.s.clusterStatus(), '', ctx.settings.timeoutMs);
  if (reply.ok === false) throw new CommandError(`cluster status: ${replyError(reply)}`);
  if (ctx.args.opts.has('json')) ctx.out(raw);
  else ctx.io.stdout.write(formatCluster(reply as ClusterStatusReply));
  return 0;
}
