import { describe, expect, it } from 'vitest';
import { createParseProject } from './constraints';
import { regionAtLine } from './regions';

const SOURCE = `export class Store {
  load(ids: string[]) {
    return ids.map((id) => this.get(id));
  }
  get(id: string) {
    return id;
  }
}

export const handler = async (event: { items: string[] }) => {
  for (const item of event.items) {
    console.log(item);
  }
};

app.post('/users', (req, res) => {
  res.send(req.body);
});

const LIMIT = 10;
`;

describe('regionAtLine', () => {
  const file = createParseProject().createSourceFile('src/store.ts', SOURCE);
  const region = (line: number) => regionAtLine(file, 'src/store.ts', line);

  it('names methods with their class and keeps callbacks in the function that holds them', () => {
    expect(region(3)).toEqual({ file: 'src/store.ts', name: 'Store.load', startLine: 2, endLine: 4 });
    expect(region(6)).toMatchObject({ name: 'Store.get', startLine: 5, endLine: 7 });
  });

  it('names arrow functions by their binding, and anonymous handlers as such', () => {
    expect(region(12)).toMatchObject({ name: 'handler', startLine: 10, endLine: 14 });
    expect(region(17)).toMatchObject({ name: '<anonymous>', startLine: 16, endLine: 18 });
  });

  it('falls back to the top-level statement, and to nothing on a blank line', () => {
    expect(region(20)).toMatchObject({ name: '<top-level>', startLine: 20, endLine: 20 });
    expect(region(9)).toBeUndefined();
  });
});
