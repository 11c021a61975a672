import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type GatewayContext } from './context.js';
import { ApiKeyInput } from './types/api-key.input.js';
import { ApiKey, CreatedApiKey } from './types/api-key.type.js';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey], { description: 'Every API key, revoked ones too, oldest first.' })
  async apiKeys(@Ctx() { services }: GatewayContext): Promise<ApiKey[]> {
    return (await services.apiKeys.list()).map(ApiKey.from);
  }

  @Mutation(() => CreatedApiKey, { description: 'Create an API key; the key is in this answer only.' })
  async createApiKey(
    @Arg('input', () => ApiKeyInput) input: ApiKeyInput,
    @Ctx() { services }: GatewayContext,
  ): Promise<CreatedApiKey> {
    const { key, record } = await services.apiKeys.create({
      name: input.name,
      role: input.role,
      users: input.users ?? null,
    });
    return { key, apiKey: ApiKey.from(record) };
  }

  @Mutation(() => ApiKey, {
    description: 'Revoke a key: it stops working at once on this gateway, within 10 s on the others.',
  })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() { services }: GatewayContext): Promise<ApiKey> {
    return ApiKey.from(await services.apiKeys.revoke(id));
  }
}
