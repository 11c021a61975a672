import { type Database } from '../db/client.js';
import { CatalogService } from './catalog.service.js';
import { createLoaders, type Loaders } from './loaders.js';
import { RatingService } from './ratings.service.js';
import { UserService } from './users.service.js';

/** The use cases the API and the CLI call; created once per process. */
export interface Services {
  db: Database;
  users: UserService;
  catalog: CatalogService;
  ratings: RatingService;
  /** Fresh batch loaders for one request. */
  createLoaders(): Loaders;
}

export function createServices(db: Database): Services {
  const users = new UserService(db);
  const catalog = new CatalogService(db);
  return {
    db,
    users,
    catalog,
    ratings: new RatingService(db, users, catalog),
    createLoaders: () => createLoaders(db),
  };
}
