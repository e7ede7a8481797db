package apiserver

func (s *Server) branchRoutes() {}
