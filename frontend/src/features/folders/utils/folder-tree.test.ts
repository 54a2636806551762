import { AxiosError } from 'axios';
import { describe, expect, it } from 'vitest';

import type { Folder, FolderId } from '@/features/folders/types';
import { createFolderTree, folderPathOf } from '@/features/folders/utils/folder-tree';
import { ApiError } from '@/lib/api-error';

const withPath = (name: string, props: Record<string, string>) => {
  const f = new File(['x'], name);
  for (const [k, v] of Object.entries(props)) Object.defineProperty(f, k, { value: v });
  return f;
};

describe('folderPathOf', () => {
  it('reads the folders of a picked folder’s file, of a dropped one, and none for a file alone', () => {
    expect(folderPathOf(withPath('a.txt', { webkitRelativePath: 'album/day-1/a.txt' }))).toBe('album/day-1');
    expect(folderPathOf(withPath('a.txt', { path: '/album/day-1/a.txt' }))).toBe('album/day-1');
    expect(folderPathOf(withPath('a.txt', { relativePath: './album/a.txt', path: './album/a.txt' }))).toBe('album');
    expect(folderPathOf(withPath('a.txt', { path: './a.txt' }))).toBeNull();
    expect(folderPathOf(withPath('a.txt', { path: '/a.txt' }))).toBeNull();
    expect(folderPathOf(withPath('a.txt', { webkitRelativePath: '' }))).toBeNull();
    expect(folderPathOf(new File(['x'], 'plain.txt'))).toBeNull();
  });
});

// A fake server: folders by id, refusals by name.
function fakeApi(refuse: Record<string, ApiError | Error> = {}) {
  const folders: Folder[] = [];
  const calls: string[] = [];
  let next = 100;
  const create = async ({ name, parentId }: { name: string; parentId: FolderId }) => {
    calls.push(`create ${name} in ${parentId}`);
    await new Promise((r) => setTimeout(r, 1));
    const no = refuse[name];
    if (no) throw no;
    if (folders.some((f) => f.parent_id === parentId && f.name.toLowerCase() === name.toLowerCase())) throw new ApiError('taken', 409, 'NAME_TAKEN');
    const f: Folder = { id: next++, name, parent_id: parentId, created_at: '', updated_at: '' };
    folders.push(f);
    return f;
  };
  const list = async (parentId: FolderId) => {
    calls.push(`list ${parentId}`);
    return folders.filter((f) => f.parent_id === parentId);
  };
  return { folders, calls, create, list };
}

describe('createFolderTree', () => {
  it('makes each folder once, parents first, and shares the answer', async () => {
    const api = fakeApi();
    const made: string[] = [];
    const tree = createFolderTree({ ...api, onCreated: (f) => made.push(f.name) });
    const got = await Promise.all(['a/b', 'a/b', 'a', 'a/c', 'A/b'].map((p) => tree.resolve(7, p)));
    expect(api.calls).toEqual(['create a in 7', 'create b in 100', 'create c in 100']);
    expect(got.map((p) => p.folderId)).toEqual([101, 101, 100, 102, 101]);
    expect(made).toEqual(['a', 'b', 'c']);
    expect(await tree.resolve(7, null)).toEqual({ folderId: 7, missed: null });
  });

  it('waits out a 429 and asks again', async () => {
    const api = fakeApi();
    let busy = 2;
    const waits: number[] = [];
    const tree = createFolderTree({
      list: api.list,
      create: async (a) => {
        if (busy-- > 0) throw new ApiError('busy', 429, 'RATE_LIMITED', 2);
        return api.create(a);
      },
      sleep: async (ms) => void waits.push(ms),
    });
    expect(await tree.resolve(null, 'a')).toEqual({ folderId: 100, missed: null });
    expect(waits).toEqual([2000, 4000]);
  });

  it('a refusal leaves the files in the nearest folder, for the subfolders too', async () => {
    const api = fakeApi({ deep: new ApiError('too deep', 409, 'FOLDER_TOO_DEEP') });
    const tree = createFolderTree(api);
    const p = await tree.resolve(null, 'a/deep/x');
    expect(p.folderId).toBe(100);
    expect(p.missed).toEqual({ name: 'deep', message: 'Folders can be nested at most 64 levels deep.' });
    expect(api.calls).toEqual(['create a in null', 'create deep in 100']);
  });

  it('no answer rejects, and the folder is asked for again next time', async () => {
    const offline = new AxiosError('Network Error', 'ERR_NETWORK');
    const api = fakeApi();
    let first = true;
    const tree = createFolderTree({
      list: api.list,
      create: (a) => {
        if (!first) return api.create(a);
        first = false;
        return Promise.reject(offline);
      },
    });
    await expect(tree.resolve(null, 'a/b')).rejects.toBe(offline);
    expect(await tree.resolve(null, 'a/b')).toEqual({ folderId: 101, missed: null });
    expect(api.calls).toEqual(['create a in null', 'create b in 100']);
  });

  it('a folder taken but not listed (gone meanwhile) leaves the files in the parent', async () => {
    const api = fakeApi({ x: new ApiError('taken', 409, 'NAME_TAKEN') });
    const tree = createFolderTree(api);
    expect(await tree.resolve(5, 'x')).toEqual({ folderId: 5, missed: { name: 'x', message: 'The folder “x” could not be found.' } });
    expect(api.calls).toEqual(['create x in 5', 'list 5']);
  });
});
