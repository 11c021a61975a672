import { Field, ID, InputType } from 'type-graphql';
import { ApiKeyRole } from './enums.js';

@InputType({ description: 'A key to create.' })
export class ApiKeyInput {
  @Field(() => String, { description: 'What it is for (1..100 characters), shown in lists.' })
  name!: string;

  @Field(() => ApiKeyRole)
  role!: ApiKeyRole;

  @Field(() => [ID], {
    nullable: true,
    description: 'CLIENT only: the users it may serve (1..1000); omitted: any user.',
  })
  users?: string[] | null;
}
