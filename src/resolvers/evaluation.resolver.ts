import {
  Arg,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { BadUserInputError } from '../errors.js';
import { ownerKeyOf } from '../services/access/principal.js';
import { chartsFor } from '../services/evaluation/charts.js';
import { type EvaluationReportView } from '../services/evaluation/report.js';
import { type GatewayContext } from './context.js';
import { EvaluationKind } from './types/enums.js';
import { Chart, EvaluationInput, EvaluationReport } from './types/evaluation-report.type.js';

/** The service's polling stream of one report, ended as soon as the client unsubscribes. */
function watchReport(context: GatewayContext, id: string): AsyncIterableIterator<EvaluationReportView> {
  const stop = new AbortController();
  const views = context.services.evaluation.watch(id, stop.signal);
  const iterator: AsyncIterableIterator<EvaluationReportView> = {
    next: () => views.next(),
    return: async () => {
      stop.abort();
      await views.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      stop.abort();
      return views.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

@Resolver(() => EvaluationReport)
export class EvaluationResolver {
  @Query(() => EvaluationReport, { nullable: true, description: 'One evaluation report, or null.' })
  async evaluationReport(@Arg('id', () => ID) id: string, @Ctx() { services }: GatewayContext) {
    const view = await services.evaluation.find(id);
    return view === undefined ? null : EvaluationReport.from(view);
  }

  @Query(() => [EvaluationReport], { description: 'Evaluation reports, newest first.' })
  async evaluationReports(
    @Arg('modelVersion', () => ID, { nullable: true }) modelVersion: string | null | undefined,
    @Arg('kind', () => EvaluationKind, { nullable: true }) kind: EvaluationKind | null | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() { services }: GatewayContext,
  ): Promise<EvaluationReport[]> {
    if (!Number.isInteger(first) || first < 1 || first > 200)
      throw new BadUserInputError('first must be 1..200');
    if (modelVersion != null && !/^\d{1,15}$/.test(modelVersion))
      throw new BadUserInputError('modelVersion is a number');
    const views = await services.evaluation.list(
      { modelVersionId: modelVersion == null ? undefined : Number(modelVersion), kind: kind ?? undefined },
      first,
    );
    return views.map(EvaluationReport.from);
  }

  @Mutation(() => EvaluationReport, {
    description:
      'Start an evaluation of the active model; it runs on this gateway, one at a time. Follow it with ' +
      'evaluationProgress or read it again; its page is at pageUrl.',
  })
  async runEvaluation(
    @Arg('input', () => EvaluationInput) input: EvaluationInput,
    @Ctx() { services }: GatewayContext,
  ) {
    return EvaluationReport.from(await services.evaluation.start(input));
  }

  @Subscription(() => EvaluationReport, {
    description: 'The report now, then at each change of its status or progress, until it ends.',
    subscribe: async ({ args, context }) => {
      const gateway = context as GatewayContext;
      await gateway.services.evaluation.require(args.report as string);
      return watchReport(gateway, args.report as string);
    },
  })
  evaluationProgress(
    @Root() view: EvaluationReportView,
    @Arg('report', () => ID) _report: string,
  ): EvaluationReport {
    if (view == null) {
      throw new BadUserInputError(
        'evaluationProgress is a subscription: subscribe over WebSocket (graphql-ws)',
      );
    }
    return EvaluationReport.from(view);
  }

  @FieldResolver(() => [Chart], { description: 'The charts of the report (none until it succeeded).' })
  async charts(
    @Root() report: EvaluationReport,
    @Ctx() { services, principal }: GatewayContext,
  ): Promise<Chart[]> {
    return Promise.all(
      chartsFor(report.view).map(async (chart) => ({
        ...chart,
        url: await services.pageLinks.sign(
          `/reports/${report.id}/charts/${chart.name}.svg`,
          ownerKeyOf(principal),
        ),
      })),
    );
  }

  @FieldResolver(() => String, {
    description:
      'The report page on this gateway (plain HTML), with its access token: a browser opens it without a key ' +
      'for 24 hours, while the key that asked is not revoked.',
  })
  pageUrl(@Root() report: EvaluationReport, @Ctx() { services, principal }: GatewayContext): Promise<string> {
    return services.pageLinks.sign(`/reports/${report.id}`, ownerKeyOf(principal));
  }
}
