/**
 * One GraphQL operation POSTed to a running gateway (the CLI's `--gateway URL`), with `apiKey` as
 * `Authorization: Bearer`; its data, or an Error joining the messages of its errors.
 */
export async function postToGateway(
  url: string,
  apiKey: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
  if (body.errors !== undefined) throw new Error(body.errors.map((error) => error.message).join('; '));
  return body.data as Record<string, unknown>;
}
