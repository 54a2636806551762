import { Link, useLocation } from 'react-router-dom';

import { folderHref } from '@/config/paths';
import { ROOT_NAME, type FolderCrumb, type FolderId } from '@/features/folders/types';
import { useFileDropTarget, type DraggedFiles, type DraggedFolder } from '@/lib/drag-files';

type BreadcrumbsProps = {
  // The open folder's path from the top-level folder down (empty: the
  // root); undefined while it loads.
  path: FolderCrumb[] | undefined;
  // File rows (and folder rows) dropped on a crumb move into its folder.
  onDropFiles?: (target: { id: FolderId; name: string }, files: DraggedFiles) => void;
  onDropFolder?: (target: { id: FolderId; name: string }, folder: DraggedFolder) => void;
};

// Breadcrumbs: the root, then each folder down to the open one; each a
// link (the open one is the current page), each a place to drop file rows.
export function Breadcrumbs({ path, onDropFiles, onDropFolder }: BreadcrumbsProps) {
  const crumbs: { id: FolderId; name: string }[] = [{ id: null, name: ROOT_NAME }, ...(path ?? [])];
  return (
    <nav aria-label="Breadcrumb" className="min-w-0">
      <ol className="flex flex-wrap items-center gap-1 text-sm">
        {crumbs.map((c, i) => (
          <li key={c.id ?? 'root'} className="flex min-w-0 items-center gap-1">
            {i > 0 && (
              <span aria-hidden="true" className="text-slate-400">
                /
              </span>
            )}
            <Crumb crumb={c} current={path !== undefined && i === crumbs.length - 1} onDropFiles={onDropFiles} onDropFolder={onDropFolder} />
          </li>
        ))}
        {path === undefined && (
          <li className="flex items-center gap-1 text-slate-400" aria-label="Loading the folder’s path">
            <span aria-hidden="true">/ …</span>
          </li>
        )}
      </ol>
    </nav>
  );
}

function Crumb({
  crumb,
  current,
  onDropFiles,
  onDropFolder,
}: {
  crumb: { id: FolderId; name: string };
  current: boolean;
  onDropFiles?: BreadcrumbsProps['onDropFiles'];
  onDropFolder?: BreadcrumbsProps['onDropFolder'];
}) {
  const { search } = useLocation();
  // The open folder holds the rows already: no drop there.
  const { over, dropProps } = useFileDropTarget((files) => onDropFiles?.(crumb, files), {
    enabled: !current && onDropFiles !== undefined,
    onDropFolder: onDropFolder && ((folder) => onDropFolder(crumb, folder)),
    folderId: crumb.id,
  });
  return (
    <Link
      to={{ pathname: folderHref(crumb.id), search }}
      aria-current={current ? 'page' : undefined}
      title={crumb.name}
      data-drop-target={over || undefined}
      {...dropProps}
      className={`max-w-[16rem] truncate rounded px-1.5 py-0.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
        over ? 'bg-indigo-100 ring-2 ring-indigo-500' : ''
      } ${current ? 'font-semibold text-slate-900' : 'text-indigo-700 hover:underline'}`}
    >
      {crumb.name}
    </Link>
  );
}
