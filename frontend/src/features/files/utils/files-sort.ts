import { useCallback } from 'react';
import { useSearchParams } from 'react-router-dom';

import { DEFAULT_FILES_SORT, FILE_SORTS, type FileSort, type FilesSort, type SortOrder } from '@/features/files/api/get-files';

// The order a sort starts in when chosen: A to Z for names, largest and
// newest first for size and upload time (the API's defaults too).
export function defaultOrder(sort: FileSort): SortOrder {
  return sort === 'name' ? 'asc' : 'desc';
}

// parseFilesSort reads ?sort=&order= of the page's URL; anything unknown
// falls back to the default sort, a missing order to the sort's default.
export function parseFilesSort(params: URLSearchParams): FilesSort {
  const sort = params.get('sort');
  if (!FILE_SORTS.includes(sort as FileSort)) return DEFAULT_FILES_SORT;
  const order = params.get('order');
  return { sort: sort as FileSort, order: order === 'asc' || order === 'desc' ? order : defaultOrder(sort as FileSort) };
}

// nextFilesSort is the sort after a click on key's column header: the
// other order of the same key, or key in its default order.
export function nextFilesSort(current: FilesSort, key: FileSort): FilesSort {
  if (current.sort === key) return { sort: key, order: current.order === 'asc' ? 'desc' : 'asc' };
  return { sort: key, order: defaultOrder(key) };
}

// useFilesSort keeps the file list's sort in the URL (?sort=name&order=asc),
// so that a reload or going back shows the same order; other search
// parameters stay as they are.
export function useFilesSort(): [FilesSort, (next: FilesSort) => void] {
  const [params, setParams] = useSearchParams();
  const current = parseFilesSort(params);
  const set = useCallback(
    (next: FilesSort) =>
      setParams((prev) => {
        const p = new URLSearchParams(prev);
        p.set('sort', next.sort);
        p.set('order', next.order);
        return p;
      }),
    [setParams],
  );
  return [current, set];
}
