export type StorageLocation = 'minio' | 's3';

// FileObject is the API's file object (SPEC.md "File object").
export type FileObject = {
  id: number;
  filename: string;
  original_filename: string;
  file_size: number;
  content_type: string;
  storage_location: StorageLocation;
  // S3 storage class of the copy: STANDARD in the hot tier, COLD_STORAGE_CLASS in the cold.
  storage_class: string;
  access_url: string;
  // SHA-256 (hex); null while not known yet: a file uploaded in parts straight to the hot tier
  // gets it when the sync job moves it to cold storage (the job reads the bytes then).
  checksum_sha256: string | null;
  // Full-object CRC64NVME (base64, as S3 reports it); null for files uploaded before it was
  // recorded, until the sync job moves them.
  checksum_crc64nvme: string | null;
  uploaded_at: string;
  synced_at: string | null;
  // The folder holding the file; null at the root ("My files"). Absent from
  // servers before folders.
  folder_id?: number | null;
};

export type UploadProgress = { loaded: number; total: number };

export type UploadOptions = {
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  // The folder the file goes into; null or absent: the root.
  folderId?: number | null;
};
