// Folder is the API's folder object. parent_id null: at the root ("My files").
export type Folder = {
  id: number;
  name: string;
  parent_id: number | null;
  created_at: string;
  updated_at: string;
};

export type FolderCrumb = { id: number; name: string };

// FolderWithPath is GET /api/folders/{id}: the folder and its path from the
// top-level folder down to and including itself (the root is not in it).
export type FolderWithPath = Folder & { path: FolderCrumb[] };

// FolderId names where something is: a folder's id, or null for the root.
export type FolderId = number | null;

// The root's name in breadcrumbs, dialogs and messages.
export const ROOT_NAME = 'My files';
