export type StorageLocation = 'minio' | 's3';

// FileObject is the API's file object (SPEC.md "File object").
export type FileObject = {
  id: number;
  filename: string;
  original_filename: string;
  file_size: number;
  content_type: string;
  storage_location: StorageLocation;
  access_url: string;
  checksum_sha256: string;
  uploaded_at: string;
  synced_at: string | null;
};

export type UploadProgress = { loaded: number; total: number };

export type UploadOptions = {
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
};
