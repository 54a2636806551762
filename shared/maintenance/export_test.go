package maintenance

// SetOrphanPages makes the orphan sweep list page keys at a time and at
// most pages pages of a tier per run, so that a test sees it resume.
func (s *Service) SetOrphanPages(page, pages int) { s.orphanPage, s.orphanPages = page, pages }
